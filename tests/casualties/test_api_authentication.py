"""API tokens: wrong ones are throttled per address, with the counters in the cache every worker process shares."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from casualties.api.authentication import TOKEN_FAILURES_DETAIL
from tests.casualties.test_api_incidents import token_client
from tests.databases import subprocess_database_url
from tests.factories import UserFactory

PROJECT = Path(__file__).resolve().parent.parent.parent


def token_failures_allowed(rate: str):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token_failure": rate}
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


def with_token(key: str, address: str) -> tuple[APIClient, dict]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, {"REMOTE_ADDR": address}


@pytest.mark.django_db
def test_after_the_allowed_wrong_tokens_an_address_gets_429_with_retry_after_even_for_a_right_token():
    guesser, at = with_token("0" * 40, "198.51.100.7")
    owner = token_client(UserFactory(username="importer"))

    with token_failures_allowed("3/hour"):
        statuses = [guesser.get("/api/v1/sources/", **at).status_code for _ in range(3)]
        refused = guesser.get("/api/v1/sources/", **at)
        owner_there = owner.get("/api/v1/sources/", **at)
        owner_elsewhere = owner.get("/api/v1/sources/", REMOTE_ADDR="203.0.113.50")
        anonymous_there = APIClient().get("/api/v1/sources/", **at)

    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json() == {"detail": f"{TOKEN_FAILURES_DETAIL} Expected available in 3600 seconds."}
    assert refused["Retry-After"] == "3600"
    assert owner_there.status_code == 429
    assert owner_elsewhere.status_code == 200
    assert anonymous_there.status_code == 200  # only token attempts are refused


@pytest.mark.django_db
def test_right_tokens_are_not_counted():
    owner = token_client(UserFactory())
    with token_failures_allowed("2/hour"):
        statuses = [owner.get("/api/v1/sources/", REMOTE_ADDR="198.51.100.7").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_give_a_guesser_a_fresh_address():
    guesser, at = with_token("0" * 40, "198.51.100.7")
    with token_failures_allowed("2/hour"):
        statuses = [
            guesser.get("/api/v1/sources/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}", **at).status_code for n in range(3)
        ]
    assert statuses == [401, 401, 429]


def test_throttle_counters_are_kept_in_the_database_cache():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


# Another process, as a second gunicorn worker would be: it sends wrong tokens from one address.
GUESSER = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test.utils import setup_test_environment
    setup_test_environment()
    from rest_framework.test import APIClient
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    print([client.get("/api/v1/sources/", REMOTE_ADDR="198.51.100.7").status_code for _ in range(3)])
    """
)


@pytest.mark.django_db(transaction=True)
def test_wrong_tokens_counted_in_another_process_throttle_this_one():
    owner = token_client(UserFactory())
    # The test database, as its owner (the suite's login); the suite's own owner URL names the server's database.
    env = {
        **{name: value for name, value in os.environ.items() if name not in {"DATABASE_OWNER_URL", "DATABASE_ROLE"}},
        "DATABASE_URL": subprocess_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "API_TOKEN_FAILURE_RATE": "3/hour",
    }

    guesser = subprocess.run(
        [sys.executable, "-c", GUESSER], cwd=PROJECT, env=env, capture_output=True, text=True, check=True, timeout=120
    )

    assert guesser.stdout.strip().splitlines()[-1] == "[401, 401, 401]"
    with token_failures_allowed("3/hour"):
        assert owner.get("/api/v1/sources/", REMOTE_ADDR="198.51.100.7").status_code == 429
        assert owner.get("/api/v1/sources/", REMOTE_ADDR="203.0.113.50").status_code == 200
