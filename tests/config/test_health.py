"""/healthz: 200 while the database answers, 503 once it does not."""

import contextlib

import pytest
from django.db import connection


@contextlib.contextmanager
def database_unreachable(port: int):
    """Point the default connection at a port where no server listens, then restore it."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_unreachable(client, django_db_blocker, closed_port):
    with django_db_blocker.unblock(), database_unreachable(closed_port):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "OperationalError"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_accepts_only_get():
    from django.test import Client

    assert Client().post("/healthz").status_code == 405
