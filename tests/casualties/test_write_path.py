"""One write path: the four-eyes rule, one new version per write, an audit trail no one can edit."""

from collections import Counter

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from pghistory.models import MiddlewareEvents

from casualties.models import Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from casualties.services import incident_save, incident_touch, incident_transition, write_scope
from tests.casualties.test_api_incidents import new_incident_body, token_client, user_with_role
from tests.casualties.test_api_resources import tally_body
from tests.casualties.test_audit import form_data
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    ReportFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def step(client, public_id, status, version):
    return client.post(f"{URL}{public_id}/transition/", {"status": status, "version": version}, format="json")


def events_per_object() -> Counter:
    return Counter(MiddlewareEvents.objects.values_list("pgh_obj_model", "pgh_obj_id"))


def version_of(incident) -> int:
    return Incident.objects.values_list("version", flat=True).get(pk=incident.pk)


# Four eyes.


def test_an_administrator_cannot_verify_an_incident_he_entered_through_the_api():
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = token_client(admin)
    created = client.post(URL, new_incident_body(), format="json").json()
    submitted = step(client, created["public_id"], "submitted", created["version"])
    assert submitted.status_code == 200

    verified = step(client, created["public_id"], "verified", submitted.json()["version"])

    assert verified.status_code == 403
    assert verified.json()["detail"] == (
        "An incident is verified or rejected by a colleague, not by the person who entered it."
    )
    assert Incident.objects.get().status == "submitted"
    assert client.get("/api/v1/aggregates/", {"interval": "month"}).json()["totals"]["incidents"] == 0


@pytest.mark.parametrize("to_status", ["verified", "rejected"])
def test_nobody_verifies_or_rejects_an_incident_they_changed_last_administrators_included(to_status):
    author = user_with_role(DATA_ENTRY)
    for editor in (user_with_role(REVIEWER), UserFactory(is_superuser=True, is_staff=True)):
        incident = IncidentFactory(status="submitted", created_by=author, updated_by=author, title="Clashes")
        incident.title = "Clashes in Ebelin"
        incident_save(incident=incident, user=editor, expected_version=incident.version)

        with pytest.raises(PermissionDenied, match=r"You made the last change to this incident, so a colleague"):
            incident_transition(incident=incident, to_status=to_status, user=editor)

        colleague = user_with_role(REVIEWER)
        assert incident_transition(incident=incident, to_status=to_status, user=colleague).status == to_status


def test_changing_only_a_figure_makes_the_editor_the_last_to_change_the_incident():
    author, reviewer = user_with_role(DATA_ENTRY), user_with_role(REVIEWER)
    incident = IncidentFactory(status="submitted", created_by=author, updated_by=author)
    incident_touch(incident=incident, user=reviewer)
    incident.refresh_from_db()
    assert incident.updated_by == reviewer
    with pytest.raises(PermissionDenied, match="four-eyes rule"):
        incident_transition(incident=incident, to_status="verified", user=reviewer)


def test_the_admins_bulk_verify_refuses_an_administrators_own_incidents():
    admin = UserFactory(is_superuser=True, is_staff=True)
    own = IncidentFactory(status="submitted", created_by=admin, updated_by=admin, title="mine")
    other = IncidentFactory(status="submitted", title="theirs")
    client = Client()
    client.force_login(admin)
    client.post(
        reverse("admin:casualties_incident_changelist"),
        {"action": "verify_selected", "_selected_action": [own.pk, other.pk]},
    )
    assert dict(Incident.objects.values_list("title", "status")) == {"mine": "submitted", "theirs": "verified"}


# One new version per write, on every path.


def test_patching_an_incidents_actors_through_the_api_raises_its_version_once():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    before = version_of(incident)
    response = token_client(user).patch(
        f"{URL}{incident.public_id}/",
        {"version": before, "actors": [{"actor": ActorFactory().pk, "role": "perpetrator"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == version_of(incident) == before + 1


def test_a_figure_added_through_the_api_raises_the_version_so_a_colleagues_stale_save_is_refused():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    read = version_of(incident)
    client = token_client(user)

    assert client.post("/api/v1/tallies/", tally_body(incident, ReportFactory()), format="json").status_code == 201
    assert version_of(incident) == read + 1

    stale = client.patch(f"{URL}{incident.public_id}/", {"title": "Overwrite", "version": read}, format="json")
    assert stale.status_code == 409
    assert Incident.objects.get(pk=incident.pk).title != "Overwrite"


def test_raw_sql_on_figures_and_actors_raises_the_incidents_version_once_per_statement():
    incident = IncidentFactory()
    tally = TallyFactory(incident=incident, best=40)
    role = IncidentActorFactory(incident=incident)
    before = version_of(incident)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE casualties_casualtytally SET best = 41, high = 41 WHERE id = %s", [tally.pk])
        cursor.execute("DELETE FROM casualties_incidentactor WHERE id = %s", [role.pk])
        cursor.execute("UPDATE casualties_casualtytally SET notes = notes WHERE id = %s", [tally.pk])  # no change
    assert version_of(incident) == before + 2


def test_one_write_raises_the_version_once_however_many_rows_of_the_incident_it_touches():
    user = user_with_role(REVIEWER)
    incident = IncidentFactory(title="Clashes")
    before = version_of(incident)
    with write_scope():
        incident.title = "Clashes in Ebelin"
        incident_save(incident=incident, user=user, expected_version=before)
        TallyFactory(incident=incident, best=40)
        TallyFactory(incident=incident, best=3, group="children")
        IncidentActorFactory(incident=incident)
    assert version_of(incident) == before + 1


def test_a_new_incident_created_with_its_figures_in_one_write_is_at_version_one():
    user = user_with_role(DATA_ENTRY)
    body = new_incident_body(actors=[{"actor": ActorFactory().pk, "role": "side_a"}])
    response = token_client(user).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == Incident.objects.get().version == 1


def test_one_admin_save_of_an_incident_and_its_figure_writes_one_event_per_object_and_one_version():
    reviewer = user_with_role(REVIEWER)
    reviewer.is_staff = True
    reviewer.save()
    incident = IncidentFactory(title="Clashes")
    tally = TallyFactory(incident=incident, best=40)
    client = Client()
    client.force_login(reviewer)
    url = reverse("admin:casualties_incident_change", args=[incident.pk])
    data = form_data(client.get(url))
    before_version = version_of(incident)
    before_events = events_per_object()
    data.update({"title": "Clashes in Ebelin", "tallies-0-low": "", "tallies-0-best": "42", "tallies-0-high": ""})

    assert client.post(url, data).status_code == 302

    assert events_per_object() - before_events == Counter(
        {("casualties.Incident", str(incident.pk)): 1, ("casualties.CasualtyTally", str(tally.pk)): 1}
    )
    assert version_of(incident) == before_version + 1


def test_an_admin_save_that_changes_nothing_writes_nothing():
    reviewer = user_with_role(REVIEWER)
    reviewer.is_staff = True
    reviewer.save()
    incident = IncidentFactory(title="Clashes")
    client = Client()
    client.force_login(reviewer)
    url = reverse("admin:casualties_incident_change", args=[incident.pk])
    data = form_data(client.get(url))
    before = (version_of(incident), events_per_object())
    assert client.post(url, data).status_code == 302
    assert (version_of(incident), events_per_object()) == before
    assert Incident.objects.get(pk=incident.pk).updated_by != reviewer


# The audit trail is append-only.


def audit_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in ("casualties", "sources")
        and any(field.name == "pgh_created_at" for field in model._meta.fields)
    )


def test_every_audit_event_table_is_protected():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'casualties_audit_append_only' ORDER BY 1"
        )
        protected = [row[0] for row in cursor.fetchall()]
    assert len(protected) >= 10
    assert protected == audit_tables()


@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET pgh_label = 'forged'", "DELETE FROM {table}", "TRUNCATE {table}"]
)
def test_raw_sql_cannot_change_or_delete_audit_events(statement, database_owner):
    # As the owner: the triggers refuse even the role that owns the tables (the service role has no such grant).
    TallyFactory(incident=IncidentFactory(title="Clashes in Ebelin"))  # events for incident, figure, report, ...
    with connection.cursor() as cursor:
        filled = []
        for table in audit_tables():
            cursor.execute(f"SELECT count(*) FROM {table}")
            if cursor.fetchone()[0]:
                filled.append(table)
    assert {"casualties_incidentevent", "casualties_casualtytallyevent", "sources_reportevent"} <= set(filled)
    before = MiddlewareEvents.objects.count()

    for table in filled:
        with (
            pytest.raises(DatabaseError, match="the audit trail is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement.format(table=table))

    assert MiddlewareEvents.objects.count() == before
    assert not MiddlewareEvents.objects.filter(pgh_label="forged").exists()
