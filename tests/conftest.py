import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """API throttle counters live in the cache; each test starts with none."""
    cache.clear()


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
