import json
import re

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from casualties.roles import REVIEWER
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    RegionFactory,
    ReportingPeriodFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_the_schema_validates_against_the_openapi_specification(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3.")
    assert "/api/v1/incidents/{public_id}/:" in text


def test_every_list_parameter_is_documented(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]}
    expected = {
        "date_from", "date_to", "region", "country", "actor", "actor_role", "incident_type", "status", "source",
        "report", "outcome", "casualty_status", "q", "updated_since", "ordering", "cursor", "page_size",
    }  # fmt: skip
    assert set(parameters) == expected
    assert all(parameters[name].get("description") for name in expected)
    responses = schema["paths"]["/api/v1/incidents/"]["get"]["responses"]
    assert sorted(responses) == ["200", "304", "400", "401", "429"]
    detail = schema["paths"]["/api/v1/incidents/{public_id}/"]
    assert sorted(detail["patch"]["responses"]) == ["200", "400", "401", "403", "404", "409", "429"]


def test_the_docs_page_loads_its_scripts_from_this_server_only(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
    assert external == []
    assert "cdn" not in html.lower()


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection open across requests, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded_api(in_process_requests):
    """A small dataset for the schema-driven run, and a reviewer's token to send with every request."""
    syria = RegionFactory(code="SYR", iso_code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    incident = IncidentFactory(region=idlib)
    IncidentActorFactory(incident=incident, actor=ActorFactory())
    TallyFactory(incident=incident)
    TallyFactory(incident=None, region=idlib, reporting_period=ReportingPeriodFactory())
    reviewer = UserFactory()
    reviewer.groups.add(Group.objects.get(name=REVIEWER))
    return Token.objects.create(user=reviewer).key


def openapi_document() -> dict:
    """The schema as /api/v1/schema/ serves it, built without a request so tests can be generated from it."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()  # requests go to the application in-process


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_schema_for_generated_requests(case, seeded_api):
    # A body can be schema-valid yet name a region, report or incident that does not exist; OpenAPI cannot
    # say which codes exist, so "valid data is accepted" cannot hold and that check is left out.
    case.call_and_validate(headers={"Authorization": f"Token {seeded_api}"}, excluded_checks=[positive_data_acceptance])
