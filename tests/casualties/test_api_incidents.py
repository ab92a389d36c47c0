import datetime

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casualties.models import Incident, IncidentActor
from casualties.roles import DATA_ENTRY, RESEARCHER, REVIEWER
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def user_with_role(role: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def mixed_incidents():
    """One incident in each review status, the drafts and submitted ones by two different authors."""
    author, other = user_with_role(DATA_ENTRY, username="author"), user_with_role(DATA_ENTRY, username="other")
    region = RegionFactory()
    kept = IncidentFactory(title="verified", region=region, date_start=datetime.date(2017, 7, 20))
    IncidentFactory(title="merged", region=region, duplicate_of=kept, date_start=datetime.date(2017, 7, 19))
    IncidentFactory(title="own draft", status="draft", created_by=author, region=region)
    IncidentFactory(title="other's draft", status="draft", created_by=other, region=region)
    IncidentFactory(title="other's submitted", status="submitted", created_by=other, region=region)
    IncidentFactory(title="rejected", status="rejected", created_by=other, region=region)
    return author


def test_anonymous_clients_see_only_verified_unmerged_incidents(api_client, mixed_incidents):
    response = api_client.get(URL)
    assert response.status_code == 200
    assert titles(response) == ["verified"]


def test_data_entry_sees_the_public_set_and_their_own_records_only(mixed_incidents):
    response = token_client(mixed_incidents).get(URL, {"ordering": "date_start"})
    assert sorted(titles(response)) == ["own draft", "verified"]


@pytest.mark.parametrize("role", [REVIEWER, RESEARCHER])
def test_reviewers_and_researchers_see_every_incident(role, mixed_incidents):
    response = token_client(user_with_role(role)).get(URL)
    assert sorted(titles(response)) == [
        "merged", "other's draft", "other's submitted", "own draft", "rejected", "verified",
    ]  # fmt: skip


def test_a_user_without_a_role_sees_the_public_set(mixed_incidents):
    assert titles(token_client(UserFactory()).get(URL)) == ["verified"]


def test_another_users_draft_is_not_found_in_detail(mixed_incidents):
    draft = Incident.objects.get(title="other's draft")
    assert token_client(mixed_incidents).get(f"{URL}{draft.public_id}/").status_code == 404
    assert APIClient().get(f"{URL}{draft.public_id}/").status_code == 404


def test_status_filter_cannot_widen_what_an_anonymous_client_sees(api_client, mixed_incidents):
    response = api_client.get(URL, {"status": ["draft", "submitted"]})
    assert response.json()["results"] == []


def test_detail_shows_actors_region_ancestors_tallies_with_sources_and_estimates(api_client):
    country = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=country)
    district = RegionFactory(code="SY0700", name="Idlib district", parent=idlib)
    incident = IncidentFactory(title="Clashes in Saraqib", region=district, place_name="Saraqib")
    hts = ActorFactory(name="Hay'at Tahrir al-Sham", acronym="HTS")
    IncidentActorFactory(incident=incident, actor=hts, role="side_a")
    report = ReportFactory(source__name="Syrian Observatory for Human Rights", source__acronym="SOHR")
    tally = TallyFactory(incident=incident, report=report, status="unknown", best=40, low=35, high=45)

    response = api_client.get(f"{URL}{incident.public_id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["region"] == {"code": "SY0700", "name": "Idlib district", "name_local": "", "level": 2}
    assert [a["code"] for a in body["region_ancestors"]] == ["SYR", "SY07"]
    assert body["actors"] == [{"actor": hts.pk, "actor_name": "Hay'at Tahrir al-Sham", "role": "side_a"}]
    assert body["tallies"] == [
        {
            "id": tally.pk, "outcome": "killed", "status": "unknown", "group": "all", "low": 35, "best": 40,
            "high": 45, "qualifier": "exact", "reported_phrase": "", "is_preferred": False,
            "report": {
                "id": report.pk, "title": report.title, "url": report.url, "published_on": "2017-07-20",
                "source": {"id": report.source.pk, "name": "Syrian Observatory for Human Rights", "acronym": "SOHR"},
            },
        }
    ]  # fmt: skip
    assert body["estimates"] == [
        {"outcome": "killed", "status": "unknown", "group": "all", "low": 35, "best": 40, "high": 45, "source_count": 1}
    ]
    assert body["incident_type"] == "armed-clash"
    assert body["version"] == 3  # created, then an actor and a figure added


def test_detail_has_an_etag_and_a_matching_if_none_match_gets_304(api_client):
    incident = IncidentFactory()
    first = api_client.get(f"{URL}{incident.public_id}/")
    etag = first["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    again = api_client.get(f"{URL}{incident.public_id}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""


def test_a_changed_incident_gets_a_new_etag(api_client):
    incident = IncidentFactory()
    etag = api_client.get(f"{URL}{incident.public_id}/")["ETag"]
    Incident.objects.filter(pk=incident.pk).update(title="Renamed")
    response = api_client.get(f"{URL}{incident.public_id}/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_the_list_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    region = RegionFactory()
    for _ in range(5):
        incident = IncidentFactory(region=region)
        IncidentActorFactory(incident=incident)
        TallyFactory(incident=incident)
    # incidents with region, type and merge target; actor roles with actors; estimates
    with django_assert_num_queries(3):
        response = api_client.get(URL)
    assert len(response.json()["results"]) == 5


def test_the_detail_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    incident = IncidentFactory(region=RegionFactory(parent=RegionFactory()))
    IncidentActorFactory(incident=incident)
    IncidentActorFactory(incident=incident, role="side_b")
    TallyFactory(incident=incident)
    TallyFactory(incident=incident, outcome="injured")
    # incident; actor roles; estimates; tallies with reports and sources; region ancestors; incidents merged into it
    with django_assert_num_queries(6):
        assert api_client.get(f"{URL}{incident.public_id}/").status_code == 200


def new_incident_body(**overrides) -> dict:
    region = RegionFactory(code="SY07", parent=RegionFactory(code="SYR"))
    IncidentTypeFactory()
    body = {
        "title": "Clashes in Ebelin",
        "date_start": "2017-07-18",
        "date_end": "2017-07-19",
        "date_precision": "days",
        "region": region.code,
        "place_name": "Ebelin",
        "location_precision": "admin1",
        "incident_type": "armed-clash",
        "external_id": "feed-1",
    }
    return {**body, **overrides}


def test_data_entry_creates_a_draft_through_the_api():
    user = user_with_role(DATA_ENTRY)
    actor = ActorFactory()
    body = new_incident_body(actors=[{"actor": actor.pk, "role": "side_a"}])
    response = token_client(user).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get()
    assert (incident.status, incident.created_by, incident.updated_by) == ("draft", user, user)
    assert response.json()["public_id"] == str(incident.public_id)
    assert response.json()["status"] == "draft"
    assert list(incident.actor_roles.values_list("actor_id", "role")) == [(actor.pk, "side_a")]


def test_a_retried_create_with_the_same_external_id_creates_nothing_new():
    client = token_client(user_with_role(DATA_ENTRY))
    body = new_incident_body()
    first = client.post(URL, body, format="json")
    second = client.post(URL, body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["public_id"] == first.json()["public_id"]
    assert Incident.objects.count() == 1


def test_a_create_reusing_an_external_id_with_other_content_is_a_conflict():
    client = token_client(user_with_role(DATA_ENTRY))
    body = new_incident_body()
    client.post(URL, body, format="json")
    response = client.post(URL, {**body, "title": "Something else"}, format="json")
    assert response.status_code == 409
    assert "title" in response.json()["detail"]
    assert list(Incident.objects.values_list("title", flat=True)) == ["Clashes in Ebelin"]


def test_two_callers_may_use_the_same_external_id():
    body = new_incident_body()
    assert token_client(user_with_role(DATA_ENTRY)).post(URL, body, format="json").status_code == 201
    assert token_client(user_with_role(DATA_ENTRY)).post(URL, body, format="json").status_code == 201
    assert Incident.objects.count() == 2


def test_an_invalid_incident_is_a_400_per_field_and_writes_nothing():
    client = token_client(user_with_role(DATA_ENTRY))
    body = new_incident_body(date_start="2017-07-20", date_end="2017-07-18", location_precision="admin3")
    response = client.post(URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "location_precision" in errors
    assert Incident.objects.count() == 0


def test_an_unknown_region_code_in_a_create_is_a_400_naming_the_field():
    client = token_client(user_with_role(DATA_ENTRY))
    response = client.post(URL, new_incident_body(region="XX99"), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["region"]


def test_anonymous_clients_cannot_write(api_client):
    response = api_client.post(URL, new_incident_body(), format="json")
    assert response.status_code == 401
    assert Incident.objects.count() == 0


def test_a_user_without_a_role_cannot_create_incidents():
    response = token_client(UserFactory()).post(URL, new_incident_body(), format="json")
    assert response.status_code == 403


def test_an_update_with_the_current_version_is_saved_and_raises_the_version():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    response = token_client(user).patch(
        f"{URL}{incident.public_id}/", {"title": "Renamed", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["version"]) == ("Renamed", 2)
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Renamed", 2)


def test_an_update_with_a_stale_version_is_a_409_and_changes_nothing():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    Incident.objects.filter(pk=incident.pk).update(title="Changed by a colleague")
    response = token_client(user).patch(f"{URL}{incident.public_id}/", {"title": "Mine", "version": 1}, format="json")
    assert response.status_code == 409
    assert "version 1" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.title == "Changed by a colleague"


def test_an_update_without_a_version_is_a_400():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    response = token_client(user).patch(f"{URL}{incident.public_id}/", {"title": "Mine"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["version"]


def test_data_entry_cannot_edit_a_verified_incident_but_a_reviewer_can():
    incident = IncidentFactory(title="Before")
    body = {"title": "After", "version": 1}
    data_entry = token_client(user_with_role(DATA_ENTRY))
    assert data_entry.patch(f"{URL}{incident.public_id}/", body, format="json").status_code == 403
    reviewer = token_client(user_with_role(REVIEWER))
    assert reviewer.patch(f"{URL}{incident.public_id}/", body, format="json").status_code == 200
    incident.refresh_from_db()
    assert incident.title == "After"


def test_an_update_replaces_the_actors():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    IncidentActorFactory(incident=incident, role="side_a")
    newcomer = ActorFactory()
    incident.refresh_from_db()
    response = token_client(user).patch(
        f"{URL}{incident.public_id}/",
        {"version": incident.version, "actors": [{"actor": newcomer.pk, "role": "perpetrator"}]},
        format="json",
    )
    assert response.status_code == 200
    assert list(IncidentActor.objects.values_list("actor_id", "role")) == [(newcomer.pk, "perpetrator")]
