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
