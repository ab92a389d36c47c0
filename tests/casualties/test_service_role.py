"""The service's own database role (casualties/service_role.py, config/database_roles.py): logged in as it, the
service writes, audit events included, and nothing it tries changes the audit trail."""

import os

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from pghistory.models import MiddlewareEvents

from casualties.models import Incident
from casualties.roles import DATA_ENTRY
from casualties.service_role import audit_event_tables
from tests.casualties.test_api_incidents import new_incident_body, token_client, user_with_role

# Ways to change the audit trail, or to write without it, that the database must refuse to the service role.
ATTEMPTS = [
    "UPDATE {table} SET pgh_label = 'forged'",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER casualties_audit_append_only",
    "ALTER TABLE {table} DISABLE TRIGGER ALL",
    "DROP TRIGGER casualties_audit_no_truncate ON {table}",
    "ALTER TABLE {table} OWNER TO CURRENT_USER",
    "DROP TABLE {table}",
]
TRACKED = [
    # The tracked table's own triggers write its audit events and raise its version.
    "ALTER TABLE casualties_incident DISABLE TRIGGER ALL",
    "DROP TRIGGER casualties_version_on_update ON casualties_casualtytally",
    "SET session_replication_role = replica",
    "SET ROLE {owner}",
    "DELETE FROM pghistory_context",
]


@pytest.fixture
def service_login(transactional_db):
    """Django logs in as the service role itself, as the web process does, rather than the owner assuming the role
    (tests/conftest.py); yields another connection logged in as it, for the attempts."""
    service = dj_database_url.parse(os.environ["DATABASE_URL"])
    db = connection.settings_dict
    kept = {"USER": db["USER"], "PASSWORD": db["PASSWORD"]}
    assumed = db["OPTIONS"].pop("assume_role")
    connection.close()
    db.update(USER=service["USER"], PASSWORD=service["PASSWORD"])
    try:
        with psycopg.connect(os.environ["DATABASE_URL"], dbname=db["NAME"], autocommit=True) as attempts:
            yield attempts
    finally:
        connection.close()
        db.update(kept)
        db["OPTIONS"]["assume_role"] = assumed


def refusals(attempts: psycopg.Connection, statements: list[str]) -> dict[str, str]:
    """Each statement run alone, and the SQLSTATE it was refused with ('' where it ran). The append-only triggers
    refuse with the same SQLSTATE; here the role's privileges must refuse first."""
    outcome = {}
    for statement in statements:
        try:
            attempts.execute(statement)
            outcome[statement] = ""
        except psycopg.Error as error:
            outcome[statement] = "the trigger" if "append-only" in str(error) else error.sqlstate
    return outcome


def test_the_service_role_writes_with_its_audit_events_but_cannot_alter_them(service_login):
    attempts = service_login
    response = token_client(user_with_role(DATA_ENTRY)).post("/api/v1/incidents/", new_incident_body(), format="json")
    incident = Incident.objects.get()
    events = list(MiddlewareEvents.objects.tracks(incident).values_list("pgh_label", "user"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        logged_in = cursor.fetchone()

    owner = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])["USER"]
    statements = [attempt.format(table=table) for table in audit_event_tables() for attempt in ATTEMPTS]
    statements += [attempt.format(owner=owner) for attempt in TRACKED]
    outcome = refusals(attempts, statements)

    assert response.status_code == 201
    assert logged_in == (settings.DATABASE_SERVICE_ROLE,) * 2 == (attempts.info.user,) * 2
    assert [label for label, _ in events] == ["insert"]
    assert events[0][1] is not None  # the acting user, attached by the middleware's context
    # 42501 insufficient_privilege: no grant, not the owner, not a superuser, not a member of the owner role.
    assert outcome == dict.fromkeys(statements, "42501")
    assert list(MiddlewareEvents.objects.tracks(incident).values_list("pgh_label", "user")) == events
    assert attempts.execute("SHOW session_replication_role").fetchone() == ("origin",)


@pytest.mark.django_db
def test_the_service_role_is_only_a_login_that_owns_nothing():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin,"
            " (SELECT count(*) FROM pg_class WHERE relowner = r.oid),"
            " (SELECT count(*) FROM pg_auth_members WHERE member = r.oid)"
            " FROM pg_roles r WHERE rolname = current_user"
        )
        attributes = cursor.fetchone()

    assert attributes == (False, False, False, False, False, True, 0, 0)
