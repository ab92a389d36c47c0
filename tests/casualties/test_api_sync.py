import datetime

import pytest
from django.utils import timezone

from casualties.models import Incident, IncidentRemoval
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_rejecting_a_verified_incident_records_its_removal():
    incident = IncidentFactory()
    Incident.objects.filter(pk=incident.pk).update(status="rejected")
    removal = IncidentRemoval.objects.get()
    assert (removal.public_id, removal.reason, removal.merged_into) == (incident.public_id, "rejected", None)


def test_merging_records_the_incident_it_was_merged_into():
    kept, merged = IncidentFactory(), IncidentFactory()
    Incident.objects.filter(pk=merged.pk).update(duplicate_of=kept)
    removal = IncidentRemoval.objects.get()
    assert (removal.public_id, removal.reason, removal.merged_into) == (merged.public_id, "merged", kept.public_id)


def test_deleting_a_verified_incident_records_its_removal():
    incident = IncidentFactory()
    public_id = incident.public_id
    incident.delete()
    assert list(IncidentRemoval.objects.values_list("public_id", "reason")) == [(public_id, "deleted")]


def test_returning_a_verified_incident_to_draft_records_its_removal():
    incident = IncidentFactory()
    Incident.objects.filter(pk=incident.pk).update(status="draft")
    assert list(IncidentRemoval.objects.values_list("public_id", "reason")) == [(incident.public_id, "unverified")]


def test_changes_outside_the_public_set_record_no_removal():
    draft = IncidentFactory(status="draft")
    verified = IncidentFactory()
    Incident.objects.filter(pk=draft.pk).update(status="rejected")
    Incident.objects.filter(pk=verified.pk).update(title="Renamed")
    draft.delete()
    assert IncidentRemoval.objects.count() == 0
    assert IncidentRemoval.objects.filter(removed_at__gte=timezone.now() - datetime.timedelta(days=1)).count() == 0


def test_removed_lists_public_ids_that_left_the_public_set_since_a_time(api_client):
    kept, merged, rejected = IncidentFactory(), IncidentFactory(), IncidentFactory()
    Incident.objects.filter(pk=rejected.pk).update(status="rejected")
    IncidentRemoval.objects.update(removed_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    Incident.objects.filter(pk=merged.pk).update(duplicate_of=kept)

    everything = api_client.get("/api/v1/incidents/removed/").json()["results"]
    assert [(row["public_id"], row["reason"]) for row in everything] == [
        (str(rejected.public_id), "rejected"),
        (str(merged.public_id), "merged"),
    ]
    recent = api_client.get("/api/v1/incidents/removed/", {"since": "2021-01-01T00:00:00Z"}).json()["results"]
    assert recent == [
        {
            "public_id": str(merged.public_id),
            "removed_at": recent[0]["removed_at"],
            "reason": "merged",
            "merged_into": str(kept.public_id),
        }
    ]


def test_removed_rejects_a_malformed_since(api_client):
    response = api_client.get("/api/v1/incidents/removed/", {"since": "yesterday"})
    assert response.status_code == 400
    assert list(response.json()) == ["since"]


def test_updated_since_and_removed_together_replay_a_rejection(api_client):
    before = timezone.now() - datetime.timedelta(minutes=5)  # a client's last sync, less a safety margin
    incident = IncidentFactory()
    Incident.objects.filter(pk=incident.pk).update(status="rejected", updated_at=timezone.now())
    since = before.isoformat()
    assert api_client.get("/api/v1/incidents/", {"updated_since": since}).json()["results"] == []
    removed = api_client.get("/api/v1/incidents/removed/", {"since": since}).json()["results"]
    assert [row["public_id"] for row in removed] == [str(incident.public_id)]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/incidents/",
        "/api/v1/sources/",
        "/api/v1/reports/",
        "/api/v1/regions/",
        "/api/v1/actors/",
        "/api/v1/reporting-periods/",
        "/api/v1/tallies/",
    ],
)
def test_every_list_takes_updated_since(api_client, url):
    assert api_client.get(url, {"updated_since": "2999-01-01T00:00:00Z"}).json()["results"] == []
    response = api_client.get(url, {"updated_since": "not a time"})
    assert response.status_code == 400
    assert list(response.json()) == ["updated_since"]
