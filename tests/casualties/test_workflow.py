"""The review workflow in the admin: who may move an incident where, one at a time or in bulk."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from casualties.roles import DATA_ENTRY, RESEARCHER, REVIEWER
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:casualties_incident_changelist")


def logged_in(role: str, username: str) -> tuple[Client, object]:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client, user


def run_action(client, action: str, incidents) -> list[str]:
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [i.pk for i in incidents]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def press(client, incident, to_status: str, **data) -> list[str]:
    url = reverse("admin:casualties_incident_transition", args=[incident.pk, to_status])
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def statuses(*incidents) -> list[str]:
    for incident in incidents:
        incident.refresh_from_db()
    return [incident.status for incident in incidents]


def test_data_entry_submits_their_own_drafts_in_bulk_and_is_told_which_were_refused():
    client, author = logged_in(DATA_ENTRY, "amal")
    colleague = UserFactory(username="colleague")
    own = IncidentFactory.create_batch(2, status="draft", created_by=author, title="own")
    already_submitted = IncidentFactory(status="submitted", created_by=author, title="sent")
    someone_elses = IncidentFactory(status="draft", created_by=colleague, title="theirs")

    notes = run_action(client, "submit_selected", [*own, already_submitted, someone_elses])

    assert statuses(*own, already_submitted, someone_elses) == ["submitted", "submitted", "submitted", "draft"]
    # Someone else's draft is not even visible to data entry, so the bulk action never sees it.
    assert notes == [
        "Submitted for review: 2 incident(s).",
        "Refused for 1 incident(s): “sent”: An incident cannot go from submitted for review to submitted.",
    ]


def test_the_verify_and_reject_actions_are_not_offered_to_data_entry():
    client, _ = logged_in(DATA_ENTRY, "amal")

    actions = [name for name, _ in client.get(CHANGELIST).context["action_form"].fields["action"].choices]

    assert actions == ["", "submit_selected"]


def test_a_data_entry_user_posting_verify_anyway_changes_nothing():
    client, author = logged_in(DATA_ENTRY, "amal")
    incident = IncidentFactory(status="submitted", created_by=author)

    response = client.post(CHANGELIST, {"action": "verify_selected", "_selected_action": [incident.pk]})

    assert response.status_code == 302
    assert statuses(incident) == ["submitted"]


def test_a_reviewer_verifies_and_rejects_in_bulk_but_not_what_they_entered_themselves():
    client, reviewer = logged_in(REVIEWER, "badr")
    author = UserFactory(username="amal")
    submitted = IncidentFactory.create_batch(2, status="submitted", created_by=author)
    own = IncidentFactory(status="submitted", created_by=reviewer, title="mine")
    draft = IncidentFactory(status="draft", created_by=author, title="unfinished")

    notes = run_action(client, "verify_selected", [*submitted, own, draft])

    assert statuses(*submitted, own, draft) == ["verified", "verified", "submitted", "draft"]
    assert notes == [
        "Verified: 2 incident(s).",
        "Refused for 2 incident(s): “mine”: An incident is verified or rejected by a colleague, not by the person who "
        "entered it. “unfinished”: An incident cannot go from draft to verified.",
    ]
    assert {i.reviewed_by for i in submitted} == {reviewer}


def test_a_reviewer_rejects_a_submitted_incident_with_the_button_on_its_page():
    client, reviewer = logged_in(REVIEWER, "badr")
    incident = IncidentFactory(status="submitted", created_by=UserFactory(username="amal"))

    notes = press(client, incident, "rejected", loaded_version=str(incident.version))

    assert statuses(incident) == ["rejected"]
    assert incident.reviewed_by == reviewer
    assert notes == [f"Rejected: “{incident.title}”."]


def test_the_incident_page_offers_only_the_steps_the_viewer_may_take():
    reviewer_client, _ = logged_in(REVIEWER, "badr")
    author_client, author = logged_in(DATA_ENTRY, "amal")
    incident = IncidentFactory(status="draft", created_by=author)
    url = reverse("admin:casualties_incident_change", args=[incident.pk])

    author_page = author_client.get(url).content.decode()
    reviewer_page = reviewer_client.get(url).content.decode()

    def steps(page):
        return [to for to in ("submitted", "verified", "rejected", "draft") if f"/transition/{to}/" in page]

    assert steps(author_page) == ["submitted"]
    assert steps(reviewer_page) == ["submitted", "rejected"]


def test_a_review_step_pressed_on_a_stale_page_is_refused():
    client, _ = logged_in(REVIEWER, "badr")
    incident = IncidentFactory(status="submitted", created_by=UserFactory(username="amal"))
    loaded = incident.version
    incident.title = "Changed meanwhile"
    incident.save()

    notes = press(client, incident, "verified", loaded_version=str(loaded))

    assert statuses(incident) == ["submitted"]
    assert notes == [
        "This incident was changed by someone else while you edited it (you loaded version 1, it is now at "
        "version 2). Reload it, re-apply your changes and save again."
    ]


def test_a_researcher_reads_incidents_but_has_no_review_step_and_cannot_press_one():
    client, _ = logged_in(RESEARCHER, "chadi")
    incident = IncidentFactory(status="submitted", created_by=UserFactory(username="amal"))

    page = client.get(reverse("admin:casualties_incident_change", args=[incident.pk]))
    notes = press(client, incident, "verified")

    assert page.status_code == 200
    assert "No review step is open to you on this incident." in page.content.decode()
    assert statuses(incident) == ["submitted"]
    assert notes == ["You do not have permission to move incidents to verified."]
