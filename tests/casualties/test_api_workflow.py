"""POST /api/v1/incidents/{public_id}/transition/: the review workflow through the API, with the admin's rules."""

import pytest

from casualties.models import Incident, IncidentRemoval
from casualties.roles import DATA_ENTRY, RESEARCHER, REVIEWER
from tests.casualties.test_api_incidents import token_client, user_with_role
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def step(client, incident, status, **data):
    return client.post(f"/api/v1/incidents/{incident.public_id}/transition/", {"status": status, **data}, format="json")


@pytest.fixture
def people():
    return {
        "author": user_with_role(DATA_ENTRY, username="amal"),
        "colleague": user_with_role(DATA_ENTRY, username="badr"),
        "reviewer": user_with_role(REVIEWER, username="rima"),
        "researcher": user_with_role(RESEARCHER, username="sami"),
    }


def test_a_draft_goes_from_its_author_to_a_reviewer_and_into_the_public_set(api_client, people):
    draft = IncidentFactory(status="draft", created_by=people["author"], title="Shelling of Maarata")

    submitted = step(token_client(people["author"]), draft, "submitted", version=draft.version)
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["version"] == draft.version + 1

    verified = step(token_client(people["reviewer"]), draft, "verified", version=submitted.json()["version"])
    assert verified.status_code == 200, verified.json()
    assert verified.json()["status"] == "verified"
    draft.refresh_from_db()
    assert (draft.status, draft.reviewed_by, draft.updated_by) == ("verified", people["reviewer"], people["reviewer"])
    assert [row["title"] for row in api_client.get("/api/v1/incidents/").json()["results"]] == ["Shelling of Maarata"]


def test_a_step_the_role_does_not_allow_is_a_403_saying_why(people):
    draft = IncidentFactory(status="draft", created_by=people["author"])
    submitted = IncidentFactory(status="submitted", created_by=people["reviewer"])

    refused = [
        step(token_client(people["author"]), draft, "rejected"),  # only reviewers reject
        step(token_client(people["researcher"]), submitted, "verified"),  # researchers read
        step(token_client(people["reviewer"]), submitted, "verified"),  # not one's own entry
    ]

    assert [r.status_code for r in refused] == [403, 403, 403]
    assert refused[0].json()["detail"] == "You do not have permission to move incidents to rejected."
    assert refused[2].json()["detail"] == (
        "An incident is verified or rejected by a colleague, not by the person who entered it."
    )
    assert list(Incident.objects.order_by("pk").values_list("status", flat=True)) == ["draft", "submitted"]


def test_a_step_from_the_wrong_status_or_a_stale_version_is_a_409(people):
    verified = IncidentFactory(status="verified")
    submitted = IncidentFactory(status="submitted", created_by=people["author"])
    reviewer = token_client(people["reviewer"])

    wrong_step = step(reviewer, verified, "submitted")
    stale = step(reviewer, submitted, "verified", version=submitted.version - 1 or 99)

    assert wrong_step.status_code == 409
    assert wrong_step.json()["detail"] == "An incident cannot go from verified to submitted."
    assert stale.status_code == 409
    assert "version" in stale.json()["detail"]
    assert list(Incident.objects.order_by("pk").values_list("status", flat=True)) == ["verified", "submitted"]


def test_rejecting_a_verified_incident_tells_sync_clients_it_left_the_public_set(people):
    verified = IncidentFactory(status="verified")
    assert step(token_client(people["reviewer"]), verified, "rejected").status_code == 200
    assert list(IncidentRemoval.objects.values_list("public_id", "reason")) == [(verified.public_id, "rejected")]


def test_bad_input_is_a_400_naming_the_field_and_strangers_get_401_or_404(api_client, people):
    draft = IncidentFactory(status="draft", created_by=people["author"])

    author = token_client(people["author"])
    bad = step(author, draft, "published")
    missing = author.post(f"/api/v1/incidents/{draft.public_id}/transition/", {})
    anonymous = step(api_client, draft, "submitted")
    colleague = step(token_client(people["colleague"]), draft, "submitted")  # another's draft is not visible

    assert bad.status_code == 400
    assert bad.json() == {"status": ['"published" is not a valid choice.']}
    assert missing.status_code == 400
    assert list(missing.json()) == ["status"]
    assert anonymous.status_code == 401
    assert colleague.status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"
