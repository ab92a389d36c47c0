"""How an export ends, and how a client verifies it: the receipt's row count and sha256 for a complete body, cut
for a stream closed early, failed for an export whose process died (its database session gone with it)."""

import hashlib
import http.client
import json
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import psutil
import psycopg
import pytest
from django.conf import settings
from django.db import connection

from casualties import exports
from casualties.models import ExportLog
from tests.casualties.test_exports_streaming import generate_incidents
from tests.config.conftest import clean_environ, free_port, server_database_url  # noqa: F401
from tests.exports import receipt
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)

INCIDENTS = "/api/v1/exports/incidents.csv"


@pytest.fixture
def three_incidents(idlib_places):
    return [IncidentFactory(region=idlib_places["idlib"], title=f"Clash {n}") for n in range(3)]


@pytest.mark.parametrize("chunk_bytes", [exports.CHUNK_BYTES, 1])
def test_a_complete_export_states_the_row_count_and_the_sha256_of_exactly_the_bytes_sent(
    api_client, three_incidents, monkeypatch, chunk_bytes
):
    monkeypatch.setattr(exports, "CHUNK_BYTES", chunk_bytes)  # 1: one chunk per row, the last one included

    response = api_client.get(INCIDENTS)
    content = b"".join(response.streaming_content)

    stated = receipt(api_client, response)
    assert content.count(b"\r\n") == 4  # the header and three rows
    assert (stated["status"], stated["row_count"], stated["bytes_sent"]) == ("completed", 3, len(content))
    assert stated["sha256"] == hashlib.sha256(content).hexdigest()
    log = ExportLog.objects.get()
    assert (log.status, log.row_count, log.bytes_sent, log.sha256) == ("completed", 3, len(content), stated["sha256"])


def test_a_file_missing_its_last_row_does_not_match_the_digest(api_client, three_incidents):
    response = api_client.get(INCIDENTS)
    content = b"".join(response.streaming_content)
    cut_at_a_line_end = content[: content.rstrip(b"\r\n").rfind(b"\r\n") + 2]

    stated = receipt(api_client, response)
    assert cut_at_a_line_end.count(b"\r\n") == 3  # a well-formed file, one row short
    assert hashlib.sha256(cut_at_a_line_end).hexdigest() != stated["sha256"]


def test_a_stream_read_in_part_and_closed_is_logged_cut_without_a_count_or_digest(
    api_client, three_incidents, monkeypatch
):
    monkeypatch.setattr(exports, "CHUNK_BYTES", 1)
    response = api_client.get(INCIDENTS)
    chunks = iter(response.streaming_content)
    sent = next(chunks) + next(chunks)  # the header and one row
    response.close()

    stated = receipt(api_client, response)
    assert (stated["status"], stated["row_count"], stated["rows_sent"]) == ("cut", None, 1)
    assert (stated["sha256"], stated["bytes_sent"]) == (None, len(sent))


def session_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


def wait_until(condition, what: str, *, attempts: int = 600) -> None:
    """Wait for ``condition`` (a session's end is noticed by the server, not by a clock in the test)."""
    for _ in range(attempts):
        if condition():
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.1)")
    raise AssertionError(f"{what} did not happen")


def test_a_started_export_reads_as_running_while_its_session_lives_and_as_failed_once_it_is_gone(api_client):
    params = {**connection.get_connection_params(), "application_name": exports.EXPORT_APPLICATION_NAME}
    session = psycopg.connect(**params, autocommit=True)  # as an export connects
    pid, started = session.execute(
        "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
    ).fetchone()
    log = ExportLog.objects.create(endpoint="incidents", backend_pid=pid, backend_started_at=started)
    address = f"/api/v1/exports/receipts/{exports.receipt_token(log)}/"

    running = api_client.get(address).json()
    session.close()
    wait_until(lambda: session_gone(pid), "the session's end")
    ended = api_client.get(address).json()

    assert running["status"] == "started"
    assert (ended["status"], ended["row_count"], ended["sha256"]) == ("failed", None, None)
    log.refresh_from_db()
    assert (log.status, log.finished_at is not None) == ("failed", True)


def test_the_next_export_marks_failed_the_rows_no_session_serves(api_client, three_incidents):
    orphan = ExportLog.objects.create(endpoint="tallies")  # written before exports named their session

    b"".join(api_client.get(INCIDENTS).streaming_content)

    orphan.refresh_from_db()
    assert orphan.status == "failed"
    assert ExportLog.objects.exclude(pk=orphan.pk).get().status == "completed"


@pytest.mark.slow
def test_an_export_whose_worker_is_killed_mid_stream_is_reported_failed(
    server_database_url,  # noqa: F811
    free_port,  # noqa: F811
    clean_environ,  # noqa: F811
    tmp_path,
):
    generate_incidents(60_000)  # far more than the socket buffers hold: the worker is inside the stream
    log_path = tmp_path / "gunicorn.log"
    env = {
        **clean_environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "export-test-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
        "DATABASE_URL": server_database_url(connection.settings_dict["NAME"]),
        "PORT": str(free_port),
    }
    headers = {"Host": "casualties.example.org", "X-Forwarded-Proto": "https"}
    command = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "--workers", "1"]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*command, "config.wsgi:application"], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until(lambda: "Booting worker" in log_path.read_text(), "the server's start")
        client = http.client.HTTPConnection("127.0.0.1", free_port, timeout=60)
        client.request("GET", INCIDENTS, headers=headers)
        response = client.getresponse()
        first = response.read(64 * 1024)
        running = ExportLog.objects.get()
        (worker,) = psutil.Process(server.pid).children()

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
        wait_until(lambda: session_gone(running.backend_pid), "the end of the killed export's database session")
        still_started = ExportLog.objects.get().status
        wait_until(lambda: log_path.read_text().count("Booting worker") >= 2, "a new worker")
        second = http.client.HTTPConnection("127.0.0.1", free_port, timeout=60)
        second.request("GET", urlsplit(response.getheader("X-Export-Receipt")).path, headers=headers)
        answer = second.getresponse()
        stated = json.loads(answer.read())
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert first.startswith(b"incident_id,")
    assert (running.status, still_started) == ("started", "started")  # nothing in the killed worker recorded its end
    assert answer.status == 200
    assert (stated["status"], stated["row_count"], stated["sha256"]) == ("failed", None, None)
    assert ExportLog.objects.get().status == "failed"
