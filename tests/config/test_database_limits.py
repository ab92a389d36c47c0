"""How long each role of connection waits on PostgreSQL, and the 503 a request gets when it waits too long or the
database is down: JSON under /api/, a plain page in the admin, never a 500 (core/database.py)."""

import contextlib
import subprocess

import psycopg
import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import reverse

from casualties.models import Incident
from casualties.roles import DATA_ENTRY
from core.database import connection_options, server_error
from tests.casualties.test_api_incidents import token_client, user_with_role
from tests.factories import IncidentFactory

from .conftest import PROJECT_DIR, PYTHON
from .test_health import database_unreachable

URL = "/api/v1/incidents/"
SHOW_LIMITS = (
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    c.execute(\"SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
    " current_setting('idle_in_transaction_session_timeout')\")\n"
    "    print(*c.fetchone())"
)
LOCKED = (
    "Another request is changing the records this one needs and did not release them within 200ms; nothing was "
    "changed. Try again in a few seconds."
)
STOPPED = (
    "The database took longer than 300ms to answer and the request was stopped; nothing was changed. Try again "
    "later, or narrow the request."
)
UNAVAILABLE = "The database is unavailable; try again in a few seconds."


@pytest.fixture
def web_limits(settings, monkeypatch):
    """Give the web role other limits, for the connections opened from now on in this test."""

    def apply(**limits: str) -> None:
        timeouts = {**settings.DATABASE_TIMEOUTS["web"], **limits}
        settings.DATABASE_TIMEOUTS = {**settings.DATABASE_TIMEOUTS, "web": timeouts}
        options = connection_options(timeouts, connect_timeout=settings.DATABASE_CONNECT_TIMEOUT)
        connection.close()
        monkeypatch.setitem(connection.settings_dict, "OPTIONS", {**connection.settings_dict["OPTIONS"], **options})

    yield apply
    connection.close()


@contextlib.contextmanager
def row_locked(sql: str, params=()):
    """Another connection holds the locks ``sql`` takes, in a transaction left open until the block ends."""
    holder = psycopg.connect(**connection.get_connection_params(), autocommit=False)
    try:
        holder.execute(sql, params)
        yield
    finally:
        holder.rollback()
        holder.close()


def show_limits(clean_environ, server_database_url, *args: str, **environ: str) -> str:
    environ = {**clean_environ, "DATABASE_URL": server_database_url("postgres"), **environ}
    result = subprocess.run(
        [PYTHON, *args], cwd=PROJECT_DIR, env=environ, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# --- the limits of each role ---


@pytest.mark.django_db(transaction=True)
def test_a_request_connection_has_the_web_limits(web_limits):
    web_limits()  # the suite itself runs with a command's limits (config/settings/test.py)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('idle_in_transaction_session_timeout')"
        )
        limits = cursor.fetchone()

    assert limits == ("30s", "5s", "1min")
    assert connection.get_connection_params()["connect_timeout"] == 5


@pytest.mark.django_db
def test_an_export_streams_from_a_connection_with_a_longer_but_bounded_statement_limit(api_client):
    from casualties import exports

    seen = []
    original = exports._connect

    def connect():
        conn, pid, started = original()
        seen.append(conn.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"))
        seen[-1] = seen[-1].fetchone()
        return conn, pid, started

    exports._connect = connect
    try:
        response = api_client.get("/api/v1/exports/incidents.csv")
        b"".join(response.streaming_content)
    finally:
        exports._connect = original

    assert response.status_code == 200
    assert seen == [("10min", "5s")]


def test_management_commands_run_without_the_web_limits(clean_environ, server_database_url):
    limits = show_limits(clean_environ, server_database_url, "manage.py", "shell", "-c", SHOW_LIMITS)

    assert limits == "0 0 0"


def test_the_limits_come_from_the_environment(clean_environ, server_database_url):
    script = "import django; django.setup()\n" + SHOW_LIMITS
    limits = show_limits(
        clean_environ,
        server_database_url,
        "-c",
        script,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_STATEMENT_TIMEOUT="45s",
        DATABASE_LOCK_TIMEOUT="750ms",
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT="2min",
    )

    assert limits == "45s 750ms 2min"


def test_a_limit_that_is_not_a_duration_is_refused_by_name(clean_environ, server_database_url):
    environ = {
        **clean_environ,
        "DATABASE_URL": server_database_url("postgres"),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_LOCK_TIMEOUT": "5 s; DROP",
    }
    result = subprocess.run(
        [PYTHON, "-c", "import django; django.setup()"], cwd=PROJECT_DIR, env=environ, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "DATABASE_LOCK_TIMEOUT must be a duration such as 30s, 500ms or 10min (0: none), not '5 s; DROP'" in (
        result.stderr
    )


# --- a lock or a statement past its limit ---


@pytest.mark.django_db(transaction=True)
def test_a_patch_waiting_on_a_row_lock_past_the_limit_is_a_503_and_succeeds_once_the_lock_is_released(web_limits):
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user, title="First write")
    client = token_client(user)
    web_limits(lock_timeout="200ms")
    body = {"title": "Second write", "version": incident.version}

    with row_locked("SELECT 1 FROM casualties_incident WHERE id = %s FOR UPDATE", [incident.pk]):
        refused = client.patch(f"{URL}{incident.public_id}/", body, format="json")
        incident.refresh_from_db()
        assert (incident.title, incident.version) == ("First write", 1)
    accepted = client.patch(f"{URL}{incident.public_id}/", body, format="json")

    assert refused.status_code == 503
    assert refused["Content-Type"] == "application/json"
    assert refused["Retry-After"] == "5"
    assert refused.json() == {"detail": LOCKED}
    assert accepted.status_code == 200, accepted.json()
    assert (accepted.json()["title"], accepted.json()["version"]) == ("Second write", 2)
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Second write", 2)


@pytest.mark.django_db(transaction=True)
def test_a_statement_past_its_limit_is_a_503_that_says_so(web_limits):
    """A statement waiting on a lock runs out of time like a slow one, whatever the machine's speed."""
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user, title="First write")
    web_limits(statement_timeout="300ms", lock_timeout="1min")

    with row_locked("LOCK TABLE casualties_incident IN ACCESS EXCLUSIVE MODE"):
        response = token_client(user).get(f"{URL}{incident.public_id}/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": STOPPED}


@pytest.mark.django_db(transaction=True)
def test_an_admin_page_waiting_past_the_lock_limit_is_a_plain_503_page(admin_client, web_limits):
    IncidentFactory(title="First write")
    web_limits(lock_timeout="200ms")

    with row_locked("LOCK TABLE casualties_incident IN ACCESS EXCLUSIVE MODE"):
        response = admin_client.get(reverse("admin:casualties_incident_changelist"))

    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "<h1>Database unavailable</h1>" in page
    assert LOCKED in page
    assert "Traceback" not in page
    assert Incident.objects.get().title == "First write"


# --- a database that does not answer ---


@pytest.mark.parametrize(
    "url", [URL, "/api/v1/aggregates/", "/api/v1/exports/incidents.csv", "/api/v1/regions/?format=json"]
)
def test_every_api_request_is_a_503_in_the_apis_shape_while_the_database_is_down(
    api_client, django_db_blocker, closed_port, url
):
    with django_db_blocker.unblock(), database_unreachable(closed_port):
        response = api_client.get(url)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": UNAVAILABLE}


def test_an_api_write_is_a_503_while_the_database_is_down(django_db_blocker, closed_port):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    with django_db_blocker.unblock(), database_unreachable(closed_port):
        response = client.post(URL, {"title": "Clashes in Ebelin"}, format="json")

    assert response.status_code == 503
    assert response.json() == {"detail": UNAVAILABLE}


@pytest.mark.parametrize("url", ["/admin/", "/admin/login/", "/admin/casualties/incident/"])
def test_the_admin_shows_a_plain_page_while_the_database_is_down(django_db_blocker, closed_port, url):
    """The audit middleware asks who the user is before any view runs: the 503 comes from handler500 then."""
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-the-database-would-know"
    with django_db_blocker.unblock(), database_unreachable(closed_port):
        response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "<h1>Database unavailable</h1>" in page
    assert UNAVAILABLE in page


def test_a_database_error_outside_any_view_is_a_503_too():
    request = RequestFactory().get("/admin/")
    try:
        raise OperationalError("connection failed")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_any_other_error_outside_a_view_is_still_a_500():
    request = RequestFactory().get("/admin/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)

    assert response.status_code == 500
