"""The embedded PostgreSQL (config/embedded_db.py) used when DATABASE_URL is unset.

Each test runs manage.py in subprocesses against its own data directory under tmp_path,
and checks the promise made to developers: a command starts the server if needed, the
data survive between runs, concurrent commands share one server, and the server stops
when the last process using it exits, however that process ended.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from config.embedded_db import stop_embedded

from .conftest import PROJECT_DIR, PYTHON

pytestmark = pytest.mark.slow

# Connects, reports readiness through a file, holds its handle until told to let go, then queries again.
HOLD_THE_SERVER = """
import os, time
from collections.abc import Iterator
from pathlib import Path
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
Path(os.environ["HOLD_READY"]).write_text("ready")
deadline = time.monotonic() + 60
while not Path(os.environ["HOLD_RELEASE"]).exists() and time.monotonic() < deadline:
    time.sleep(0.1)
connection.close()
with connection.cursor() as cursor:
    cursor.execute("SELECT 'still connected'")
    print(cursor.fetchone()[0])
"""


@pytest.fixture
def pgdata() -> Iterator[Path]:
    """A data directory of the test's own, outside pytest's tmp_path.

    As root the server runs as another user, which must traverse the path to it, and
    every pytest session that starts resets the tmp_path tree to mode 0700.
    """
    parent = Path(tempfile.mkdtemp(prefix="embedded-pgdata-test-"))
    yield parent / "pgdata"
    stop_embedded(parent / "pgdata")
    shutil.rmtree(parent)


@pytest.fixture
def env(clean_environ, pgdata, tmp_path) -> dict[str, str]:
    return {
        **clean_environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "EMBEDDED_PGDATA": str(pgdata),
        "HOLD_READY": str(tmp_path / "ready"),
        "HOLD_RELEASE": str(tmp_path / "release"),
    }


@pytest.fixture
def processes():
    """Popen objects to kill if a test fails half-way, so no server outlives the suite."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def start_holder(env: dict[str, str], processes: list) -> subprocess.Popen:
    """A command that keeps using the server until the release file appears."""
    process = subprocess.Popen(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", HOLD_THE_SERVER],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    processes.append(process)
    wait_for(lambda: Path(env["HOLD_READY"]).exists() or process.poll() is not None, "the holder to connect")
    assert process.poll() is None, process.communicate()
    return process


def wait_for(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def postmaster_pid(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def handles(pgdata: Path) -> list[int]:
    return sorted(json.loads((pgdata / ".handle_pids.json").read_text()))


def test_a_command_starts_the_embedded_server_and_stops_it_when_it_exits(env, pgdata):
    output = shell(
        env,
        "import os, psycopg\n"
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user')\n"
        "print(cursor.fetchone())\n"
        # Only the owner, the server's superuser, may read where the server keeps its data.
        "with psycopg.connect(os.environ['DATABASE_OWNER_URL']) as owner:\n"
        "    print(owner.execute(\"SELECT current_setting('data_directory')\").fetchone()[0])\n"
        "print(open(connection.settings_dict['OPTIONS']['host'] + '/postmaster.pid').readline().strip())",
    )

    role, data_directory, server_pid = output.splitlines()[-3:]
    assert role == "('casualties_service', False)"
    assert Path(data_directory) == pgdata.resolve()
    assert not (pgdata / "postmaster.pid").exists()
    assert not is_running(int(server_pid))
    assert handles(pgdata) == []


def test_a_second_command_finds_the_data_of_the_first(env):
    env = {**env, "DATABASE_ROLE": "owner"}  # which may create a table
    system_identifier = "SELECT system_identifier FROM pg_control_system()"
    first = shell(
        env,
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('CREATE TABLE kept (note text)')\n"
        "cursor.execute(\"INSERT INTO kept VALUES ('written by run 1')\")\n"
        f"cursor.execute({system_identifier!r})\n"
        "print(cursor.fetchone()[0])",
    )

    second = shell(
        env,
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SELECT note FROM kept')\n"
        "print(cursor.fetchall())\n"
        f"cursor.execute({system_identifier!r})\n"
        "print(cursor.fetchone()[0])",
    )

    assert second.splitlines()[-2:] == ["[('written by run 1',)]", first.splitlines()[-1]]


def test_concurrent_commands_share_one_server_until_the_last_one_exits(env, pgdata, processes):
    holder = start_holder(env, processes)
    server = postmaster_pid(pgdata)

    shell(env, "from django.db import connection\nconnection.ensure_connection()")

    assert postmaster_pid(pgdata) == server
    assert is_running(server)
    assert handles(pgdata) == [holder.pid]
    Path(env["HOLD_RELEASE"]).touch()
    stdout, stderr = holder.communicate(timeout=60)
    assert (holder.returncode, stdout.strip().splitlines()[-1]) == (0, "still connected"), stderr
    assert not is_running(server)
    assert handles(pgdata) == []


def test_a_command_killed_with_sigkill_does_not_keep_the_server_up(env, pgdata, processes):
    holder = start_holder(env, processes)
    server = postmaster_pid(pgdata)
    holder.kill()
    holder.wait(timeout=30)
    assert is_running(server)
    assert handles(pgdata) == [holder.pid]

    shell(env, "from django.db import connection\nconnection.ensure_connection()")

    assert not is_running(server)
    assert not (pgdata / "postmaster.pid").exists()
    assert handles(pgdata) == []


def test_a_handle_file_truncated_by_a_killed_writer_does_not_keep_the_server_up(env, pgdata, processes):
    holder = start_holder(env, processes)
    server = postmaster_pid(pgdata)
    # What a process killed half-way through rewriting the handle list leaves behind.
    (pgdata / ".handle_pids.json").write_text("")

    Path(env["HOLD_RELEASE"]).touch()
    _, stderr = holder.communicate(timeout=60)

    assert holder.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert not is_running(server)
    assert handles(pgdata) == []


def test_a_command_stopped_with_sigterm_releases_its_handle_and_stops_the_server(env, pgdata, processes):
    holder = start_holder(env, processes)
    server = postmaster_pid(pgdata)

    holder.terminate()
    holder.wait(timeout=30)

    assert holder.returncode == 128 + signal.SIGTERM
    assert not is_running(server)
    assert handles(pgdata) == []


def healthz_status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def reloader_child(runserver: subprocess.Popen) -> int | None:
    children = psutil.Process(runserver.pid).children()
    return children[0].pid if children else None


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_runserver_keeps_the_server_up_across_reloads_and_stops_it_when_stopped(
    env, pgdata, tmp_path, free_port, processes, stop_signal
):
    # A settings module of the test's own: touching it makes the autoreloader restart its child.
    watched = tmp_path / "reload_settings.py"
    watched.write_text("from config.settings.local import *  # noqa: F403\n")
    env = {**env, "DJANGO_SETTINGS_MODULE": "reload_settings", "PYTHONPATH": f"{tmp_path}{os.pathsep}{PROJECT_DIR}"}
    with (tmp_path / "runserver.log").open("w") as log:
        runserver = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{free_port}"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes.append(runserver)
    wait_for(lambda: healthz_status(free_port) == 200, "runserver to answer /healthz")
    server, first_child = postmaster_pid(pgdata), reloader_child(runserver)
    # The autoreloader started the server and holds it; its children inherit DATABASE_URL and just connect.
    assert first_child is not None
    assert handles(pgdata) == [runserver.pid]

    touched = [0.0]

    def restarted() -> bool:
        if reloader_child(runserver) not in {None, first_child}:
            return True
        # Touch again every 2 s: a touch made before the reloader's first scan sets its baseline instead.
        if time.monotonic() - touched[0] > 2:
            later = time.time() + 5 + len(touched)
            os.utime(watched, (later, later))
            touched[0] = time.monotonic()
            touched.append(later)
        return False

    wait_for(restarted, "the autoreloader to restart its child")
    wait_for(lambda: healthz_status(free_port) == 200, "the restarted child to answer /healthz")

    assert postmaster_pid(pgdata) == server
    assert handles(pgdata) == [runserver.pid]
    os.killpg(runserver.pid, stop_signal)
    runserver.wait(timeout=30)
    assert not is_running(server), (tmp_path / "runserver.log").read_text()
    assert not (pgdata / "postmaster.pid").exists()
    assert handles(pgdata) == []
