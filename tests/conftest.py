import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_throttles(request):
    """API throttle counters live in the cache (a database table); each test that uses the database starts with
    none."""
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        request.getfixturevalue("_django_db_helper")  # as pytest-django's own django_db marker does
        cache.clear()


@pytest.fixture(autouse=True)
def _throttle_counters_outside_query_budgets(request, monkeypatch):
    """A query budget counts what an endpoint asks of the data. The throttles' counters cost a fixed few statements
    on the cache table per request; tests/casualties/test_api_authentication.py tests them in that table."""
    if {"django_assert_num_queries", "django_assert_max_num_queries"} & set(request.fixturenames):
        from django.core.cache.backends.locmem import LocMemCache
        from rest_framework.throttling import SimpleRateThrottle

        monkeypatch.setattr(SimpleRateThrottle, "cache", LocMemCache("query-budget-throttles", {}))


@pytest.fixture(autouse=True, scope="session")
def _force_login_passes_both_factors():
    """``client.force_login(user)`` stands for a complete login: for a user whose role needs a one-time code the
    session is marked as having passed it too. The real login form is tested in tests/casualties/test_login.py."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from casualties.roles import must_use_two_factor

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if must_use_two_factor(user):
            device, _ = StaticDevice.objects.get_or_create(user=user, name="Test login", defaults={"confirmed": True})
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    Client.force_login = force_login
    yield
    Client.force_login = original


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The suite logs in as the owner, which has created and migrated the test database (config/settings/test.py);
    from here on every connection assumes the service role (SET ROLE), so each test has the service's privileges
    and no more. The owner drops the database at the end."""
    options = connections["default"].settings_dict["OPTIONS"]
    with django_db_blocker.unblock():
        connections.close_all()
    options["assume_role"] = settings.DATABASE_SERVICE_ROLE
    yield
    with django_db_blocker.unblock():
        connections.close_all()
    del options["assume_role"]


@pytest.fixture
def database_owner(db):
    """The rest of the test runs as the owner, for what only the owner may do: bulk loads with the triggers off,
    the summary repair (the owner-only commands, config/database_roles.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE NONE")
    yield
    # Inside the test's transaction, its rollback ends the SET too.
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(connection.ops.compose_sql("SET ROLE %s", [settings.DATABASE_SERVICE_ROLE]))


@pytest.fixture(autouse=True, scope="session")
def _analyze_as_the_owner():
    """Tests run ANALYZE where autovacuum would have, which only a table's owner (or a superuser) may do: the
    statement alone runs as the owner, and the role of the moment (the service role, or the owner in a test that
    asked for ``database_owner``) is back after it."""

    def as_owner(execute, sql, params, many, context):
        role = context["connection"].settings_dict["OPTIONS"].get("assume_role")
        if not role or not sql.lstrip().upper().startswith("ANALYZE"):
            return execute(sql, params, many, context)
        execute("SELECT current_user = session_user", None, False, context)
        (as_session_user,) = context["cursor"].fetchone()
        execute("SET ROLE NONE", None, False, context)
        result = execute(sql, params, many, context)
        if not as_session_user:
            execute(connection.ops.compose_sql("SET ROLE %s", [role]), None, False, context)
        return result

    with connection.execute_wrapper(as_owner):
        yield


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_guard():
    """Transactional tests empty every table between tests, audit events included, which the database refuses
    to anyone (casualties/sql/audit.sql). The flush runs as the owner, a superuser here, with triggers off
    (session_replication_role = replica, superuser only) for that transaction alone."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        owner = ["SET LOCAL ROLE NONE", "SET LOCAL session_replication_role = replica"]
        return [*owner, *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original
