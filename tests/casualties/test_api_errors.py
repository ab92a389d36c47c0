"""How the API refuses: unknown query parameters, read-only fields, and the model's messages per field."""

import datetime

import pytest

from casualties.models import CasualtyTally, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from sources.models import Report
from tests.casualties.test_api_incidents import new_incident_body, token_client, user_with_role
from tests.factories import (
    IncidentFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

pytestmark = pytest.mark.django_db

TRANSITION_HINT = "Read-only here: the review status changes through POST /api/v1/incidents/{public_id}/transition/."
READ_ONLY = "Read-only: the service sets it; leave it out of the request."

# --- unknown query parameters: one answer on every list, detail, aggregate and export ---

EVERY_READ = [
    "/api/v1/incidents/",
    "/api/v1/incidents/removed/",
    "/api/v1/tallies/",
    "/api/v1/reports/",
    "/api/v1/sources/",
    "/api/v1/regions/",
    "/api/v1/actors/",
    "/api/v1/reporting-periods/",
    "/api/v1/aggregates/",
    "/api/v1/exports/incidents.csv",
    "/api/v1/exports/tallies.csv",
    "/api/v1/exports/period-totals.csv",
]


def test_a_mistyped_filter_on_the_incident_list_is_a_400_naming_it_not_the_unfiltered_list(api_client):
    IncidentFactory(region=RegionFactory(code="SY07"))

    response = api_client.get("/api/v1/incidents/", {"regoin": "SY07"})

    assert response.status_code == 400
    assert response.json() == {"regoin": ["Unknown parameter; did you mean region?"]}


@pytest.mark.parametrize("url", EVERY_READ)
def test_every_list_aggregate_and_export_refuses_an_unknown_parameter_in_the_same_shape(api_client, url):
    response = api_client.get(url, {"zzz": "1"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"zzz": ["Unknown parameter."]}


def test_an_aggregates_own_parameter_errors_come_in_the_same_shape_as_every_other_400(api_client):
    response = api_client.get("/api/v1/aggregates/", {"fill": "true", "date_from": "2017-01-01"})

    assert response.status_code == 400
    assert response.json() == {"fill": ["fill needs an interval."]}


def test_a_detail_refuses_an_unknown_parameter_too(api_client):
    incident = IncidentFactory()

    response = api_client.get(f"/api/v1/incidents/{incident.public_id}/", {"expand": "tallies"})

    assert response.status_code == 400
    assert response.json() == {"expand": ["Unknown parameter."]}


def test_paging_and_format_parameters_are_known_to_every_list(api_client):
    IncidentFactory.create_batch(2)

    first = api_client.get("/api/v1/incidents/", {"page_size": 1, "format": "json"})
    second = api_client.get(first.json()["next"])

    assert (first.status_code, second.status_code) == (200, 200)
    assert len(first.json()["results"]) == len(second.json()["results"]) == 1


# --- read-only fields: sent on a write, they are a 400 naming them ---


def test_a_status_sent_in_an_incident_patch_is_a_400_pointing_to_the_transition_endpoint():
    user = user_with_role(REVIEWER)
    incident = IncidentFactory(status="submitted")

    response = token_client(user).patch(
        f"/api/v1/incidents/{incident.public_id}/", {"status": "verified", "version": incident.version}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"status": [TRANSITION_HINT]}
    incident.refresh_from_db()
    assert (incident.status, incident.version) == ("submitted", 1)


def test_a_status_sent_in_an_incident_create_is_a_400_and_nothing_is_created():
    response = token_client(user_with_role(DATA_ENTRY)).post(
        "/api/v1/incidents/", new_incident_body(status="verified"), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"status": [TRANSITION_HINT]}
    assert Incident.objects.count() == 0


def test_every_read_only_field_sent_on_a_write_is_named_in_the_400():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    client = token_client(user)
    body = {"version": 1, "public_id": "x", "created_at": "2017-07-20T00:00:00Z", "title": "Renamed"}

    incident_answer = client.patch(f"/api/v1/incidents/{incident.public_id}/", body, format="json")
    tally = TallyFactory(incident=incident, best=10)
    tally_answer = client.patch(f"/api/v1/tallies/{tally.pk}/", {"source": 3, "best": 11, "high": 11}, format="json")
    report_answer = client.post(
        "/api/v1/reports/",
        {"id": 7, "source": SourceFactory().pk, "title": "T", "published_on": "2017-07-20"},
        format="json",
    )

    assert incident_answer.status_code == tally_answer.status_code == report_answer.status_code == 400
    assert incident_answer.json() == {"created_at": [READ_ONLY], "public_id": [READ_ONLY]}
    assert tally_answer.json() == {"source": [READ_ONLY]}
    assert report_answer.json() == {"id": [READ_ONLY]}
    incident.refresh_from_db()
    tally.refresh_from_db()
    assert (incident.title != "Renamed", tally.best, Report.objects.filter(title="T").count()) == (True, 10, 0)


# --- the model's messages, per field, never a constraint's name ---


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"date_start": "2017-07-20", "date_end": "2017-07-19"},
            {"date_end": ["The end (2017-07-19) is before the start (2017-07-20)."]},
        ),
        (
            {"date_end": "2099-01-01"},
            {"date_end": ["2099-01-01 is in the future; record only what has happened."]},
        ),
        (
            {"date_start": "2099-01-01", "date_end": "2099-01-02"},
            {
                "date_start": ["2099-01-01 is in the future; record only what has happened."],
                "date_end": ["2099-01-02 is in the future; record only what has happened."],
            },
        ),
        (
            {"location_precision": "exact"},
            {"latitude": ["An exact or nearby location needs its latitude and longitude."]},
        ),
    ],
)
def test_bad_incident_dates_and_places_are_the_admins_messages_per_field(overrides, errors):
    body = new_incident_body(**overrides)

    response = token_client(user_with_role(DATA_ENTRY)).post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert Incident.objects.count() == 0


def test_an_overlapping_period_total_names_the_clashing_figure():
    snhr = SourceFactory(name="Syrian Network for Human Rights", acronym="SNHR")
    idlib = RegionFactory(code="SY07", name="Idlib")
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    week = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 28), date_end=datetime.date(2017, 8, 3))
    existing = TallyFactory(
        incident=None, region=idlib, reporting_period=july, best=120,
        report=ReportFactory(source=snhr, title="Civilian death toll in July 2017"),
    )  # fmt: skip
    body = {
        "report": ReportFactory(source=snhr).pk, "region": "SY07", "reporting_period": week.pk, "outcome": "killed",
        "status": "civilian", "best": 30,
    }  # fmt: skip

    response = token_client(user_with_role(DATA_ENTRY)).post("/api/v1/tallies/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "reporting_period": [
            "Syrian Network for Human Rights (SNHR) already has a total for Idlib (SY07) over 2017-07-01 to "
            "2017-07-31, which overlaps this period: 120 killed (civilian, all) from “Civilian death toll in July "
            f"2017” (figure #{existing.pk})."
        ]
    }
    assert CasualtyTally.objects.count() == 1


def test_lowering_the_figure_for_all_below_a_subgroup_is_refused_at_its_best():
    user = user_with_role(DATA_ENTRY)
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    total = TallyFactory(incident=incident, report=report, best=10)
    TallyFactory(incident=incident, report=report, group="children", best=8)
    client = token_client(user)
    read = client.get(f"/api/v1/tallies/{total.pk}/").json()

    response = client.patch(
        f"/api/v1/tallies/{total.pk}/",
        {"low": 5, "best": 5, "high": 5, "updated_at": read["updated_at"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "best": [
            "The figure for all (best 5, high 5) is below the of which children figure from the same report "
            "(best 8, high 8)."
        ]
    }
    total.refresh_from_db()
    assert total.best == 10


def test_a_report_url_already_used_by_its_source_names_that_report():
    source = SourceFactory(name="SOHR")
    existing = ReportFactory(source=source, title="About 40 killed", url="https://example.org/a")
    body = {"source": source.pk, "title": "Other", "url": "https://example.org/a", "published_on": "2017-07-20"}

    response = token_client(user_with_role(DATA_ENTRY)).post("/api/v1/reports/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"url": [f"SOHR already has a report with this URL: “About 40 killed” (#{existing.pk})."]}
