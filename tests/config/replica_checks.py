"""The service against a real primary and a streaming hot standby (core.db_routing).

Run by tests/config/test_replica.py, which starts the pair and runs this module in a pytest of its own with
DATABASE_URL on the primary and DATABASE_REPLICA_URL on the standby. Which server answered is shown three ways:
the statements each connection ran, ``pg_is_in_recovery()``, and data the standby cannot have yet, because its
replay is paused (``pg_wal_replay_pause()``) while the primary moves on. Nothing waits on a duration: a test
that needs the standby current waits until it has replayed the primary's WAL position.
"""

import os
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connections, router, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casualties.exports import EXPORT_APPLICATION_NAME, export_logs_settle
from casualties.models import ExportLog, Incident
from casualties.roles import DATA_ENTRY
from core import db_routing
from tests.factories import IncidentFactory, IncidentTypeFactory, RegionFactory, TallyFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_REPLICA_URL"), reason="needs a standby: run through tests/config/test_replica.py"
    ),
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PRIMARY, REPLICA = "default", "replica"


def fetch_one(alias: str, sql: str, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def standby_catches_up(limit_seconds: float = 120) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    lsn = fetch_one(PRIMARY, "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + limit_seconds
    while True:
        try:
            if fetch_one(REPLICA, "SELECT COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [lsn]):
                return
        except DatabaseError:  # the test database may not have reached the standby yet
            connections[REPLICA].close()
        assert time.monotonic() < deadline, "the standby did not replay the primary's WAL"
        time.sleep(0.05)


class Replay:
    """Pauses and resumes the standby's replay of the primary's WAL: while paused, whatever the primary writes is
    on the primary only."""

    def pause(self) -> None:
        standby_catches_up()
        fetch_one(REPLICA, "SELECT pg_wal_replay_pause()::text")
        while fetch_one(REPLICA, "SELECT pg_get_wal_replay_pause_state()") != "paused":
            time.sleep(0.01)

    def resume(self) -> None:
        fetch_one(REPLICA, "SELECT pg_wal_replay_resume()::text")
        standby_catches_up()


@pytest.fixture
def replay() -> Iterator[Replay]:
    """The standby's replay, resumed when the test ends."""
    controller = Replay()
    try:
        yield controller
    finally:
        controller.resume()


@contextmanager
def statements() -> Iterator[dict[str, list[str]]]:
    """The SQL each Django connection runs inside the block, by alias."""
    seen: dict[str, list[str]] = {PRIMARY: [], REPLICA: []}

    def recorder(alias):
        def record(execute, sql, params, many, context):
            seen[alias].append(sql)
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in seen:
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        yield seen


@contextmanager
def standby_unreachable() -> Iterator[None]:
    """Point the standby's connection at a port where nothing listens, then back."""
    replica = connections[REPLICA]
    saved = replica.settings_dict["PORT"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        replica.close()
        replica.settings_dict["PORT"] = str(closed.getsockname()[1])
        try:
            yield
        finally:
            replica.close()
            replica.settings_dict["PORT"] = saved


def touching(sqls: list[str], table: str) -> list[str]:
    return [sql for sql in sqls if table in sql]


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def data_entry_user():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=DATA_ENTRY))
    return user


def test_the_two_servers_are_a_primary_and_its_hot_standby(database_owner):
    """As the owner: pg_stat_replication shows the state of a standby to privileged roles only."""
    standby_catches_up()

    assert fetch_one(PRIMARY, "SELECT pg_is_in_recovery()") is False
    assert fetch_one(REPLICA, "SELECT pg_is_in_recovery()") is True
    assert fetch_one(PRIMARY, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 1


def test_an_api_list_is_read_from_the_standby(replay):
    replay.pause()
    IncidentFactory(title="on the primary only")

    with statements() as sql:
        response = APIClient().get("/api/v1/incidents/")

    assert response.status_code == 200
    assert response.json()["results"] == []  # the standby has not replayed the incident
    assert touching(sql[REPLICA], "casualties_incident")
    assert touching(sql[PRIMARY], "casualties_incident") == []
    assert Incident.objects.using(PRIMARY).count() == 1


def test_an_aggregate_is_computed_on_the_standby(replay):
    region = RegionFactory(code="SY07")
    TallyFactory(incident=IncidentFactory(region=region), best=10)
    replay.pause()
    TallyFactory(incident=IncidentFactory(region=region), best=5)  # on the primary only

    with statements() as sql:
        response = APIClient().get("/api/v1/aggregates/", {"region_level": "0"})

    assert response.status_code == 200, response.json()
    assert (response.json()["totals"]["incidents"], response.json()["totals"]["best"]) == (1, 10)
    assert touching(sql[REPLICA], "GROUPING SETS")
    assert touching(sql[PRIMARY], "GROUPING SETS") == []


def test_an_export_streams_from_the_standby_and_its_log_and_receipt_are_on_the_primary(replay):
    replay.pause()
    IncidentFactory(title="on the primary only")

    response = APIClient().get("/api/v1/exports/incidents.csv")
    # The export's own connection is open until the body has been read: on the standby, not on the primary.
    exporting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    on_standby = fetch_one(REPLICA, exporting, [EXPORT_APPLICATION_NAME])
    on_primary = fetch_one(PRIMARY, exporting, [EXPORT_APPLICATION_NAME])
    # While it streams from the standby, its log is not taken for one whose worker died.
    assert export_logs_settle() == 0
    assert ExportLog.objects.using(PRIMARY).get().status == ExportLog.Status.STARTED
    body = b"".join(response.streaming_content).decode()

    assert response.status_code == 200
    assert (on_standby, on_primary) == (1, 0)
    assert len(body.splitlines()) == 1  # the header alone: the standby has no incident yet
    # The export wrote its log on the primary, while the standby replayed nothing; the receipt reads it there.
    log = ExportLog.objects.using(PRIMARY).get()
    assert (log.status, log.row_count) == (ExportLog.Status.COMPLETED, 0)
    receipt = APIClient().get(response["X-Export-Receipt"])
    assert receipt.status_code == 200
    assert (receipt.json()["status"], receipt.json()["row_count"]) == ("completed", 0)


NEW_INCIDENT = {
    "title": "Clashes in Ebelin",
    "date_start": "2017-07-18",
    "date_end": "2017-07-19",
    "date_precision": "days",
    "region": "SY07",
    "place_name": "Ebelin",
    "location_precision": "admin1",
    "incident_type": "armed-clash",
}


def test_a_callers_reads_after_their_own_write_go_to_the_primary_until_the_standby_has_it(replay):
    user = data_entry_user()
    writer, other_client = token_client(user), APIClient()
    other_client.force_login(user)  # the same user in a browser session, which did not write
    RegionFactory(code="SY07", parent=RegionFactory(code="SYR"))
    IncidentTypeFactory()
    replay.pause()  # the user, their tokens and the reference data are on the standby

    created = writer.post("/api/v1/incidents/", NEW_INCIDENT, format="json")
    assert created.status_code == 201, created.json()
    detail = f"/api/v1/incidents/{created.json()['public_id']}/"
    with statements() as sql:
        own_read = writer.get(detail)
    other_read = other_client.get(detail)  # not the caller that wrote: the standby answers

    assert own_read.status_code == 200
    assert own_read.json()["title"] == "Clashes in Ebelin"
    assert touching(sql[PRIMARY], "casualties_incident")
    assert touching(sql[REPLICA], "casualties_incident") == []
    assert other_read.status_code == 404

    replay.resume()
    with statements() as sql:
        caught_up_read = writer.get(detail)

    assert caught_up_read.status_code == 200
    assert touching(sql[REPLICA], "casualties_incident")
    assert touching(sql[PRIMARY], "casualties_incident") == []


def test_a_browser_session_reads_its_own_write_through_the_signed_cookie(replay):
    user = data_entry_user()
    incident = IncidentFactory(status="draft", created_by=user, updated_by=user)
    client = APIClient()
    client.force_login(user)
    replay.pause()

    moved = client.post(f"/api/v1/incidents/{incident.public_id}/transition/", {"status": "submitted"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert db_routing.PIN_COOKIE in moved.cookies
    with statements() as sql:
        read = client.get(f"/api/v1/incidents/{incident.public_id}/")

    assert read.json()["status"] == "submitted"  # the standby still has a draft
    assert touching(sql[REPLICA], "casualties_incident") == []


def test_the_admin_reads_the_primary(replay, admin_client):
    replay.pause()
    IncidentFactory(title="on the primary only")

    response = admin_client.get("/admin/casualties/incident/")

    assert response.status_code == 200
    assert "on the primary only" in response.content.decode()


def test_writes_go_to_the_primary_and_the_standby_refuses_any():
    token = db_routing._reads.set(REPLICA)  # as in an API read
    try:
        assert db_routing.read_alias() == REPLICA
        assert router.db_for_write(Incident) == PRIMARY
        incident = IncidentFactory(title="written during a read")
        with transaction.atomic():  # a read inside a transaction on the primary stays there
            assert db_routing.read_alias() == PRIMARY
            assert Incident.objects.select_for_update().get(pk=incident.pk).title == "written during a read"
    finally:
        db_routing._reads.reset(token)
    standby_catches_up()

    with pytest.raises(DatabaseError) as refused:
        fetch_one(REPLICA, "UPDATE casualties_incident SET title = 'changed on the standby' RETURNING id")
    connections[REPLICA].close()

    assert isinstance(refused.value.__cause__, psycopg.errors.ReadOnlySqlTransaction)
    assert Incident.objects.using(PRIMARY).get().title == "written during a read"
    assert Incident.objects.using(REPLICA).get().title == "written during a read"
    assert not router.allow_migrate(REPLICA, "casualties")


def test_the_health_check_reports_the_standby():
    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "replica": "ok"}


def test_reads_fall_back_to_the_primary_while_the_standby_cannot_be_reached(replay):
    replay.pause()
    IncidentFactory(title="on the primary only")

    with standby_unreachable():
        response = APIClient().get("/api/v1/incidents/")
        health = APIClient().get("/healthz")

    assert response.status_code == 200
    assert [row["title"] for row in response.json()["results"]] == ["on the primary only"]
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "replica": "OperationalError"}
