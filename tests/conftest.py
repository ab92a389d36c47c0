import pytest
from django.core.cache import cache
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


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_guard():
    """Transactional tests empty every table between tests, audit events included, which the database refuses
    to anyone (casualties/sql/audit.sql). The test suite's own superuser connection resets the tables with
    triggers off (session_replication_role = replica, superuser only) for that statement alone."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original
