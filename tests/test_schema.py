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

from casualties.roles import DATA_ENTRY, REVIEWER
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
    assert sorted(responses) == ["200", "304", "400", "401", "414", "429"]
    detail = schema["paths"]["/api/v1/incidents/{public_id}/"]
    assert sorted(detail["patch"]["responses"]) == ["200", "400", "401", "403", "404", "409", "413", "414", "429"]


WRITES = [
    ("/api/v1/incidents/", "post", "201", "IncidentDetail"),
    ("/api/v1/incidents/", "post", "200", "IncidentDetail"),
    ("/api/v1/incidents/{public_id}/", "put", "200", "IncidentDetail"),
    ("/api/v1/incidents/{public_id}/", "patch", "200", "IncidentDetail"),
    ("/api/v1/incidents/{public_id}/transition/", "post", "200", "IncidentDetail"),
    ("/api/v1/tallies/", "post", "201", "CasualtyTally"),
    ("/api/v1/tallies/{id}/", "patch", "200", "CasualtyTally"),
    ("/api/v1/reports/", "post", "201", "Report"),
    ("/api/v1/reports/{id}/", "put", "200", "Report"),
]


@pytest.mark.parametrize(("path", "method", "status", "component"), WRITES)
def test_every_write_is_documented_to_answer_with_what_it_returns(api_client, path, method, status, component):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    answer = schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    assert answer == {"$ref": f"#/components/schemas/{component}"}
    assert schema["components"]["schemas"]["IncidentDetail"]["properties"]["region"] == {
        "allOf": [{"$ref": "#/components/schemas/RegionBrief"}],
        "readOnly": True,
    }


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


ROLES = ("anonymous", DATA_ENTRY, REVIEWER)


@pytest.fixture
def seeded_api(in_process_requests):
    """A small dataset for the schema-driven runs, and the headers each role sends: none for an anonymous
    client, a token for a data-entry clerk (with a draft of their own) and for a reviewer."""
    syria = RegionFactory(code="SYR", iso_code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    incident = IncidentFactory(region=idlib)
    IncidentActorFactory(incident=incident, actor=ActorFactory())
    TallyFactory(incident=incident, notes="Checked against the hospital list.")
    TallyFactory(incident=None, region=idlib, reporting_period=ReportingPeriodFactory())
    headers = {"anonymous": {}}
    for role in (DATA_ENTRY, REVIEWER):
        user = UserFactory()
        user.groups.add(Group.objects.get(name=role))
        headers[role] = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    TallyFactory(incident=IncidentFactory(region=idlib, status="draft", created_by=user))
    return headers


def openapi_document() -> dict:
    """The schema as /api/v1/schema/ serves it, built without a request so tests can be generated from it."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()  # requests go to the application in-process

# Refusals of a schema-valid read that OpenAPI cannot describe: a code or id that names no record (or several),
# a cursor this list never gave out or gave out for another ordering, a rule across parameters ("fill needs an
# interval", "date_to must not be before date_from", "does not apply with basis=…"), a NUL character (PostgreSQL
# stores none).
DATA_DEPENDENT = re.compile(
    r"does not exist|^No [\w ]+ has the|^This names more than one|^Not a cursor this list gave out"
    r"|^This cursor belongs to a different ordering|\bneeds\b|must not be before|^Does not apply with"
    r"|^Null characters are not allowed"
)


@schemathesis.check
def valid_reads_are_answered(ctx, response, case):
    """Schemathesis's positive_data_acceptance for reads, save for the refusals DATA_DEPENDENT names.

    Writes are left to the other checks: whether a body is accepted turns on rules across fields and
    on which records exist (the model's rules, the services'), which a schema cannot state.
    """
    if case.method.upper() != "GET" or response.status_code != 400:
        return None
    messages = [message for field in response.json().values() for message in field]
    if messages and all(DATA_DEPENDENT.search(str(message)) for message in messages):
        return None
    return positive_data_acceptance(ctx, response, case)


# Every check schemathesis has, stateful ones included, with positive_data_acceptance as narrowed above.
CHECKS = {"excluded_checks": [positive_data_acceptance], "additional_checks": [valid_reads_are_answered]}
# The same examples every run, so the gate never passes or fails by chance.
RUN = {"deadline": None, "suppress_health_check": list(HealthCheck), "derandomize": True, "database": None}


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=5, **RUN)
def test_the_api_keeps_its_schema_for_generated_requests(case, seeded_api):
    """Every check, for each role: no server error, every answer as the schema describes it."""
    for role in ROLES:
        case.call_and_validate(headers=seeded_api[role], **CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_schema_through_sequences_of_calls(role, seeded_api):
    """Schemathesis's stateful run: calls chained along the schema's links (a record created, then read and
    changed), with every check on every step."""
    headers = seeded_api[role]

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, transport_kwargs=kwargs, recorder=self.recorder, **CHECKS)

    Workflow.run(settings=settings(max_examples=10, stateful_step_count=5, **RUN))
