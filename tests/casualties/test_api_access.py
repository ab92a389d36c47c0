import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from tests.casualties.test_api_incidents import token_client
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_administrator_issues_a_token_in_the_admin_and_it_authenticates(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    service = UserFactory(username="feed-importer")
    client.force_login(admin)
    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": service.pk})
    assert response.status_code == 302
    token = Token.objects.get(user=service)
    IncidentFactory(title="someone's draft", status="draft")
    IncidentFactory(title="published")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/v1/incidents/")
    assert response.status_code == 200
    # the service account has no role, so it sees the public set only
    assert [row["title"] for row in response.json()["results"]] == ["published"]


def test_a_token_revoked_in_the_admin_no_longer_authenticates(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    service = UserFactory()
    api = token_client(service)
    assert api.get("/api/v1/incidents/").status_code == 200
    client.force_login(admin)
    response = client.post(f"/admin/authtoken/tokenproxy/{service.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Token.objects.filter(user=service).count() == 0
    response = api.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_anonymous_clients_are_throttled(api_client):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "2/minute"}
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [api_client.get("/api/v1/sources/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_token_clients_have_their_own_higher_rate(api_client):
    rates = {"anon": "1/minute", "user": "3/minute"}
    api = token_client(UserFactory())
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [api.get("/api/v1/sources/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def _rest_framework() -> dict:
    return dict(settings.REST_FRAMEWORK)
