"""Fixtures for tests that run the service in subprocesses: a free port and the suite's PostgreSQL."""

import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens: bound but not listening, so nobody else takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def server_database_url() -> Callable[[str], str]:
    """A DATABASE_URL for a database on the server this suite runs against (embedded or DATABASE_URL)."""
    db = settings.DATABASES["default"]
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    port = db["PORT"] or db["OPTIONS"].get("port", 5432)
    credentials = quote(db["USER"], safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")

    def url(name: str) -> str:
        return f"postgres://{credentials}@/{name}?{urlencode({'host': host, 'port': port})}"

    return url


@pytest.fixture
def clean_environ() -> dict[str, str]:
    """This process's environment without any of the service's own settings."""
    own = {"DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_ROLE", "DATABASE_CONN_MAX_AGE", "EMBEDDED_PGDATA"}
    own |= {"PORT", "TEST_DATABASE_NAME"}
    return {name: value for name, value in os.environ.items() if name not in own and not name.startswith("DJANGO_")}
