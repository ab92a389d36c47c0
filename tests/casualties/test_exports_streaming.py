"""Large exports: constant memory, a quick first byte, and a download outliving gunicorn's worker timeout.

The rows are generated inside PostgreSQL and committed (transactional tests), so that the export's own
connection, and a gunicorn server started for the test, read them.
"""

import http.client
import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pgtrigger
import psutil
import pytest
from django.conf import settings
from django.db import connection

from tests.config.conftest import clean_environ, free_port, server_database_url  # noqa: F401
from tests.exports import receipt_row_count
from tests.factories import IncidentTypeFactory, RegionFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/exports/incidents.csv"
MB = 1024 * 1024


def generate_incidents(count: int) -> None:
    """``count`` verified incidents in Idlib, one SQL statement."""
    idlib = RegionFactory(code="SY07", name="Idlib", parent=RegionFactory(code="SYR", name="Syria"))
    clash = IncidentTypeFactory()
    # Generated rows need no audit history; recording it row by row would dominate the test's time.
    with pgtrigger.ignore("casualties.Incident:insert_insert"), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO casualties_incident
              (public_id, title, description, date_start, date_end, date_precision, region_id, place_name,
               location_precision, incident_type_id, status, external_id, version, created_at, updated_at)
            SELECT gen_random_uuid(), 'Generated clash number ' || g || ', "quoted", with a comma', '',
                   DATE '2017-01-01' + g %% 365, DATE '2017-01-01' + g %% 365, 'day', %s,
                   'Somewhere in the Zaweya Mountains, village ' || g, 'admin1', %s, 'verified', '', 1, now(), now()
              FROM generate_series(1, %s) AS g
            """,
            [idlib.pk, clash.pk, count],
        )
        # As autovacuum would: the planner then streams from the primary key instead of sorting.
        cursor.execute("ANALYZE casualties_incident")


def test_a_200k_row_export_streams_in_constant_memory(api_client):
    # That the first rows come without a sort or count first is proven on the plan (test_exports_plan.py), not timed.
    generate_incidents(200_000)
    process = psutil.Process()

    response = api_client.get(URL)
    chunks = iter(response.streaming_content)
    first = next(chunks) + next(chunks)  # the header, then the first rows
    baseline = peak = process.memory_info().rss
    size, lines = len(first), first.count(b"\r\n")
    for number, chunk in enumerate(chunks):
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        if number % 20 == 0:
            peak = max(peak, process.memory_info().rss)

    assert lines == 200_001  # header and rows
    assert receipt_row_count(api_client, response) == 200_000
    assert size > 40 * MB
    assert peak - baseline < 0.2 * size, f"grew {(peak - baseline) / MB:.1f} MB for {size / MB:.1f} MB streamed"


def test_a_download_longer_than_the_gunicorn_worker_timeout_completes(
    server_database_url,  # noqa: F811
    free_port,  # noqa: F811
    clean_environ,  # noqa: F811
    tmp_path,
):
    generate_incidents(60_000)
    log_path = tmp_path / "gunicorn.log"
    env = {
        **clean_environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "export-test-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
        "DATABASE_URL": server_database_url(connection.settings_dict["NAME"]),
        "PORT": str(free_port),
    }
    command = ["-m", "gunicorn", "--config", "config/gunicorn.conf.py", "--timeout", "2", "--workers", "1"]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, *command, "config.wsgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "Booting worker" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        client = http.client.HTTPConnection("127.0.0.1", free_port, timeout=30)
        client.request("GET", URL, headers={"Host": "casualties.example.org", "X-Forwarded-Proto": "https"})
        response = client.getresponse()
        started, body = time.monotonic(), bytearray()
        # A slow reader: the server's thread stays inside the response for several worker timeouts.
        while block := response.read(32 * 1024):
            body += block
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        # The receipt, asked for once the file is read.
        receipt_path = urlsplit(response.getheader("X-Export-Receipt")).path
        second = http.client.HTTPConnection("127.0.0.1", free_port, timeout=30)
        second.request("GET", receipt_path, headers={"Host": "casualties.example.org", "X-Forwarded-Proto": "https"})
        stated = second.getresponse().read()
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert response.status == 200, bytes(body[:500])
    assert elapsed > 2 * 2, f"the download took only {elapsed:.1f} s"
    assert body.count(b"\r\n") == 60_001
    assert json.loads(stated)["row_count"] == 60_000
    assert body.endswith(b"\r\n")
    assert "WORKER TIMEOUT" not in log_path.read_text()
