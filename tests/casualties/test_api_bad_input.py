"""Requests no client should send still get a clear answer in the API's error shape, never a server error."""

import json
import runpy

import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from casualties.models import CasualtyTally, Incident, IncidentActor
from casualties.roles import DATA_ENTRY
from sources.models import Report
from tests.casualties.test_api_incidents import new_incident_body, token_client, user_with_role
from tests.factories import ActorFactory, IncidentActorFactory, IncidentFactory, RegionFactory, TallyFactory

pytestmark = pytest.mark.django_db

TOO_DEEP = {"non_field_errors": ["The JSON body is nested too deeply."]}


@pytest.fixture
def clerk():
    return user_with_role(DATA_ENTRY)


@pytest.fixture
def write_urls(clerk):
    """Every write endpoint, with the method it takes."""
    incident = IncidentFactory(status="draft", created_by=clerk)
    tally = TallyFactory(incident=incident)
    return [
        ("post", "/api/v1/incidents/"),
        ("put", f"/api/v1/incidents/{incident.public_id}/"),
        ("patch", f"/api/v1/incidents/{incident.public_id}/"),
        ("post", f"/api/v1/incidents/{incident.public_id}/transition/"),
        ("post", "/api/v1/tallies/"),
        ("put", f"/api/v1/tallies/{tally.pk}/"),
        ("patch", f"/api/v1/tallies/{tally.pk}/"),
        ("post", "/api/v1/reports/"),
        ("put", f"/api/v1/reports/{tally.report_id}/"),
        ("patch", f"/api/v1/reports/{tally.report_id}/"),
    ]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_json_body_nested_too_deeply_is_a_400_on_every_write_endpoint(clerk, write_urls, depth):
    client = token_client(clerk)
    counts = (Incident.objects.count(), CasualtyTally.objects.count(), Report.objects.count())
    for method, url in write_urls:
        for body in ("[" * depth + "]" * depth, '{"title": ' * depth + "1" + "}" * depth):
            response = getattr(client, method)(url, body, content_type="application/json")
            assert (method, url, response.status_code, response.json()) == (method, url, 400, TOO_DEEP)
    assert (Incident.objects.count(), CasualtyTally.objects.count(), Report.objects.count()) == counts


def test_malformed_json_is_a_400_in_the_same_shape(clerk):
    response = token_client(clerk).post("/api/v1/incidents/", '{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert response.json()["non_field_errors"][0].startswith("JSON parse error")


@pytest.mark.parametrize(
    ("item", "errors"),
    [
        ({"role": "side_a"}, {"actor": ["This field is required."]}),
        ({"actor": "ACTOR"}, {"role": ["This field is required."]}),
        ({}, {"actor": ["This field is required."], "role": ["This field is required."]}),
    ],
)
def test_an_actor_missing_its_actor_or_role_is_the_same_400_in_a_patch_as_in_a_create(clerk, item, errors):
    actor = ActorFactory()
    item = {name: actor.pk if value == "ACTOR" else value for name, value in item.items()}
    incident = IncidentFactory(status="draft", created_by=clerk)
    IncidentActorFactory(incident=incident, actor=actor, role="side_b")
    client = token_client(clerk)

    patched = client.patch(
        f"/api/v1/incidents/{incident.public_id}/", {"version": incident.version, "actors": [item]}, format="json"
    )
    created = client.post("/api/v1/incidents/", new_incident_body(actors=[item]), format="json")

    assert (patched.status_code, patched.json()) == (400, {"actors": {"0": errors}})  # items named by index
    assert (created.status_code, created.json()) == (400, {"actors": {"0": errors}})
    assert list(IncidentActor.objects.filter(incident=incident).values_list("role", flat=True)) == ["side_b"]
    assert Incident.objects.count() == 1


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_upload_limit_is_a_json_413(clerk, content_type):
    body = json.dumps({"title": "x" * 2_000}) if content_type == "application/json" else "title=" + "x" * 2_000
    response = token_client(clerk).post("/api/v1/incidents/", body, content_type=content_type)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is larger than the 1000 bytes accepted."}
    assert Incident.objects.count() == 0


def test_a_body_over_the_upload_limit_outside_the_api_stays_a_page(admin_client):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000):
        response = admin_client.post("/admin/sources/source/add/", {"name": "x" * 2_000})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@override_settings(MAX_URL_LENGTH=200)
def test_a_url_over_the_length_limit_is_a_json_414(api_client):
    region = RegionFactory(code="SY07")
    IncidentFactory(region=region)
    fits = "/api/v1/incidents/?q=" + "a" * (200 - len("/api/v1/incidents/?q="))
    assert api_client.get(fits).status_code == 200

    response = api_client.get(fits + "a")

    assert response.status_code == 414
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The URL is longer than the 200 characters this service accepts; send fewer or shorter parameters."
    }
    assert "Content-Security-Policy" in response


def test_the_applications_url_limit_is_below_the_servers_request_line_limit(settings):
    # The request line is "<METHOD> <url> HTTP/1.1"; the longest method the API takes is PATCH.
    gunicorn = runpy.run_path(str(django_settings.BASE_DIR / "config" / "gunicorn.conf.py"))
    assert settings.MAX_URL_LENGTH + len("PATCH  HTTP/1.1") < gunicorn["limit_request_line"]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/incidents/", "status"),
        ("/api/v1/incidents/", "outcome"),
        ("/api/v1/incidents/", "casualty_status"),
        ("/api/v1/tallies/", "status"),
        ("/api/v1/tallies/", "outcome"),
        ("/api/v1/tallies/", "group"),
        ("/api/v1/actors/", "kind"),
        ("/api/v1/sources/", "kind"),
    ],
)
def test_an_empty_choice_parameter_means_no_filter(api_client, url, parameter):
    TallyFactory(incident=IncidentFactory())
    ActorFactory()
    unfiltered = api_client.get(url).json()["results"]
    assert unfiltered

    response = api_client.get(f"{url}?{parameter}=")

    assert response.status_code == 200
    assert response.json()["results"] == unfiltered


def test_an_empty_value_beside_a_real_one_filters_by_the_real_one(api_client):
    killed = TallyFactory(outcome="killed")
    TallyFactory(outcome="injured")
    response = api_client.get("/api/v1/tallies/?outcome=&outcome=killed")
    assert [row["id"] for row in response.json()["results"]] == [killed.pk]


def test_an_unknown_incident_type_code_is_a_400_naming_it(api_client):
    response = api_client.get("/api/v1/incidents/", {"incident_type": "no-such-type"})
    assert response.status_code == 400
    assert response.json() == {"incident_type": ["No incident type has the code 'no-such-type'."]}
