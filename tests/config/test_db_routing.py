"""core.db_routing without a standby, and the settings that turn it on (the standby itself: test_replica.py)."""

import json
import subprocess

import pytest
from django.conf import settings
from django.db import router
from django.http import HttpResponse
from django.test import RequestFactory

from casualties.models import Incident
from core import db_routing

from .conftest import PROJECT_DIR, PYTHON

SHOW_DATABASES = """
import json
from django.conf import settings
print(json.dumps({"aliases": sorted(settings.DATABASES), "routers": settings.DATABASE_ROUTERS,
                  "replica": settings.DATABASES.get("replica", {})}, default=str))
"""


def databases_with(environ: dict[str, str]) -> dict:
    result = subprocess.run(
        [PYTHON, "-c", f"import django; django.setup(); {SHOW_DATABASES}"],
        cwd=PROJECT_DIR,
        env={**environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def test_a_replica_url_adds_the_standby_and_the_router(clean_environ):
    shown = databases_with(
        {
            **clean_environ,
            "DATABASE_URL": "postgres://app@primary.example:5432/casualties",
            "DATABASE_REPLICA_URL": "postgres://app@standby.example:5433/casualties",
        }
    )

    assert shown["aliases"] == ["default", "replica"]
    assert shown["routers"] == ["core.db_routing.PrimaryReplicaRouter"]
    assert (shown["replica"]["HOST"], shown["replica"]["PORT"]) == ("standby.example", 5433)
    # The test database reaches the standby by replication: the test runner never creates it there.
    assert shown["replica"]["TEST"]["MIRROR"] == "default"


def test_without_a_replica_url_there_is_one_database_and_no_router(clean_environ):
    shown = databases_with({**clean_environ, "DATABASE_URL": "postgres://app@primary.example:5432/casualties"})

    assert shown["aliases"] == ["default"]
    assert shown["routers"] == []


def test_without_a_standby_every_read_goes_to_the_primary():
    assert "replica" not in settings.DATABASES
    token = db_routing._reads.set(db_routing.REPLICA)
    try:
        assert db_routing.read_alias() == "default"
        assert router.db_for_read(Incident) == "default"
    finally:
        db_routing._reads.reset(token)


@pytest.mark.parametrize(
    ("cookie_lsn", "cached_lsn", "pinned"),
    [
        (None, None, None),
        ("0/16B3748", None, "0/16B3748"),
        (None, "1/0", "1/0"),
        ("0/FFFFFFFF", "1/0", "1/0"),  # compared as positions, not as text
        ("2/10", "1/FF", "2/10"),
    ],
)
@pytest.mark.django_db  # the token's position is in the shared cache, a database table
def test_a_callers_pin_is_the_later_of_their_cookie_and_their_tokens_position(cookie_lsn, cached_lsn, pinned):
    request = RequestFactory().get("/api/v1/incidents/", HTTP_AUTHORIZATION="Token abc")
    if cookie_lsn:
        response = HttpResponse()
        response.set_signed_cookie(db_routing.PIN_COOKIE, cookie_lsn, salt=db_routing.PIN_SALT)
        request.COOKIES[db_routing.PIN_COOKIE] = response.cookies[db_routing.PIN_COOKIE].value
    db_routing.cache.delete(db_routing._cache_key(request))
    if cached_lsn:
        db_routing.cache.set(db_routing._cache_key(request), cached_lsn)

    assert db_routing.pinned_lsn(request) == pinned


def test_a_forged_pin_cookie_is_ignored():
    request = RequestFactory().get("/api/v1/incidents/")
    request.COOKIES[db_routing.PIN_COOKIE] = "FFFF/FFFFFFFF"

    assert db_routing.pinned_lsn(request) is None
