"""GET /api/v1/aggregates/: parameters, scoping, CSV, conditional requests, errors and the query budget."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casualties.api.aggregates import CSVRenderer
from casualties.choices import ReviewStatus
from casualties.csv_stream import csv_stream
from casualties.roles import DATA_ENTRY, REVIEWER
from casualties.selectors import ROW_FIELDS
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
    UserFactory,
)
from tests.queries import data_queries

pytestmark = pytest.mark.django_db

URL = "/api/v1/aggregates/"
D = datetime.date


@pytest.fixture
def places():
    syria = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    district = RegionFactory(code="SY0700", name="Idlib district", parent=idlib)
    aleppo = RegionFactory(code="SY02", name="Aleppo", parent=syria)
    turkey = RegionFactory(code="TUR", name="Turkey")
    return {"syria": syria, "idlib": idlib, "district": district, "aleppo": aleppo, "turkey": turkey}


JULY_19 = D(2017, 7, 19)


def killed(region, best, date=JULY_19, **incident):
    incident = IncidentFactory(region=region, date_start=date, **incident)
    TallyFactory(incident=incident, best=best, low=best, high=best + 1)
    return incident


def bests(response):
    assert response.status_code == 200, response.content
    return [
        (row["period_start"], row["region_code"], row["incidents"], row["best"]) for row in response.json()["results"]
    ]


def test_aggregate_returns_rows_and_totals_as_json(api_client, places):
    killed(places["district"], 5, date=D(2017, 7, 19))
    killed(places["idlib"], 7, date=D(2017, 8, 2))

    response = api_client.get(URL, {"interval": "month", "region_level": 2})

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "period_start": "2017-07-01",
                "period_end": "2017-07-31",
                "region_code": "SY0700",
                "region_name": "Idlib district",
                "region_level": 2,
                "incidents": 1,
                "incidents_with_figures": 1,
                "low": 5,
                "best": 5,
                "high": 6,
            },
            {
                "period_start": "2017-08-01",
                "period_end": "2017-08-31",
                "region_code": "SY07",
                "region_name": "Idlib",
                "region_level": 1,
                "incidents": 1,
                "incidents_with_figures": 1,
                "low": 7,
                "best": 7,
                "high": 8,
            },
        ],
        "totals": {"incidents": 2, "incidents_with_figures": 2, "low": 12, "best": 12, "high": 14},
    }


def test_defaults_are_killed_civilians_of_all_groups_without_grouping(api_client, places):
    incident = killed(places["idlib"], 5)
    report = ReportFactory()
    TallyFactory(incident=incident, report=report, outcome="injured", best=50)
    TallyFactory(incident=incident, report=report, status="combatant", best=500)

    response = api_client.get(URL)

    assert bests(response) == [(None, None, 1, 5)]
    assert bests(api_client.get(URL, {"outcome": "injured"})) == [(None, None, 1, 50)]
    assert bests(api_client.get(URL, {"casualty_status": "all"})) == [(None, None, 1, 505)]


def test_outcome_and_status_choose_the_figure_and_do_not_filter_incidents(api_client, places):
    killed(places["idlib"], 5)
    IncidentFactory(region=places["idlib"])

    response = api_client.get(URL, {"outcome": "missing", "casualty_status": "unknown"})

    assert response.json()["totals"] == {
        "incidents": 2,
        "incidents_with_figures": 0,
        "low": None,
        "best": None,
        "high": None,
    }


@pytest.mark.parametrize(
    ("params", "expected_best"),
    [
        ({"region": "SY07"}, 12),
        ({"region": "SY0700"}, 5),
        ({"country": "TUR"}, 100),
        ({"date_from": "2017-08-01"}, 7),
        ({"date_to": "2017-07-31"}, 105),
        ({"date_from": "2017-07-01", "date_to": "2017-07-31"}, 105),
        ({"incident_type": "airstrike"}, 7),
        ({"actor": "Ahrar al-Sham"}, 5),
        ({"actor_role": "side_a"}, 5),
        ({"actor": "Ahrar al-Sham", "actor_role": "target"}, None),
        ({"updated_since": "2000-01-01T00:00:00Z"}, 112),
        ({"updated_since": "2100-01-01T00:00:00Z"}, None),
        ({"ordering": "date_start"}, 112),
        ({"source": "SOHR"}, 100),
        ({"q": "Saraqib"}, 5),
    ],
)
def test_every_incident_filter_applies(api_client, places, params, expected_best):
    district = killed(places["district"], 5, date=D(2017, 7, 19), place_name="Saraqib")
    IncidentActorFactory(incident=district, actor=ActorFactory(name="Ahrar al-Sham"))
    killed(places["idlib"], 7, date=D(2017, 8, 2), incident_type=IncidentTypeFactory(code="airstrike", name="Air"))
    turkey = IncidentFactory(region=places["turkey"], date_start=D(2017, 7, 3))
    TallyFactory(incident=turkey, best=100, report=ReportFactory(source=SourceFactory(acronym="SOHR")))

    response = api_client.get(URL, params)

    assert response.status_code == 200, response.content
    assert response.json()["totals"]["best"] == expected_best


def test_the_report_filter_counts_the_incidents_a_report_gives_figures_for(api_client, places):
    report = ReportFactory()
    TallyFactory(incident=IncidentFactory(region=places["idlib"]), report=report, best=3)
    killed(places["idlib"], 40)

    response = api_client.get(URL, {"report": report.pk})

    assert response.json()["totals"] == {"incidents": 1, "incidents_with_figures": 1, "low": 3, "best": 3, "high": 3}


def test_anonymous_clients_count_only_verified_incidents_that_are_not_duplicates(api_client, places):
    kept = killed(places["idlib"], 1)
    killed(places["idlib"], 10, status=ReviewStatus.DRAFT)
    killed(places["idlib"], 100, duplicate_of=kept)

    assert api_client.get(URL).json()["totals"]["best"] == 1
    assert api_client.get(URL, {"status": "draft"}).json()["totals"]["incidents"] == 0


def test_staff_may_count_other_statuses_within_what_their_role_sees(api_client, places):
    clerk = UserFactory()
    clerk.groups.add(Group.objects.get(name=DATA_ENTRY))
    reviewer = UserFactory()
    reviewer.groups.add(Group.objects.get(name=REVIEWER))
    killed(places["idlib"], 1)
    killed(places["idlib"], 10, status=ReviewStatus.DRAFT, created_by=clerk)
    killed(places["idlib"], 100, status=ReviewStatus.DRAFT)

    api_client.force_authenticate(clerk)
    assert api_client.get(URL, {"status": "draft"}).json()["totals"]["best"] == 10
    assert api_client.get(URL).json()["totals"]["best"] == 1
    api_client.force_authenticate(reviewer)
    assert api_client.get(URL, {"status": "draft"}).json()["totals"]["best"] == 110
    assert api_client.get(URL, {"status": ["draft", "verified"]}).json()["totals"]["best"] == 111


def test_reported_totals_basis_sums_one_sources_period_totals(api_client, places):
    sohr = SourceFactory(acronym="SOHR")
    period = ReportingPeriodFactory(date_start=D(2017, 7, 30), date_end=D(2017, 8, 2))
    TallyFactory(
        incident=None, region=places["district"], reporting_period=period, report=ReportFactory(source=sohr), best=9
    )
    TallyFactory(
        incident=None, region=places["aleppo"], reporting_period=period, report=ReportFactory(source=sohr), best=1000
    )
    killed(places["idlib"], 5)

    response = api_client.get(
        URL, {"basis": "reported_totals", "source": "sohr", "region": "SY07", "interval": "month", "region_level": 1}
    )

    assert response.status_code == 200, response.content
    assert [(r["period_start"], r["region_code"], r["incidents"], r["best"]) for r in response.json()["results"]] == [
        ("2017-07-01", "SY07", None, 5),
        ("2017-08-01", "SY07", None, 4),
    ]
    assert response.json()["totals"]["best"] == 9


def test_fill_gives_dense_rows_over_the_date_range(api_client, places):
    killed(places["idlib"], 5, date=D(2017, 7, 19))

    response = api_client.get(
        URL, {"interval": "month", "fill": "true", "date_from": "2017-06-01", "date_to": "2017-08-31"}
    )

    assert bests(response) == [("2017-06-01", None, 0, None), ("2017-07-01", None, 1, 5), ("2017-08-01", None, 0, None)]


def test_csv_gives_the_same_rows_with_a_header_and_empty_for_unknown(api_client, places):
    killed(places["district"], 5, date=D(2017, 7, 19))
    IncidentFactory(region=places["aleppo"], date_start=D(2017, 7, 3))

    response = api_client.get(URL, {"interval": "month", "region_level": 1, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content).decode() == (
        "period_start,period_end,region_code,region_name,region_level,incidents,incidents_with_figures,low,best,high\r\n"
        "2017-07-01,2017-07-31,SY02,Aleppo,1,1,0,,,\r\n"
        "2017-07-01,2017-07-31,SY07,Idlib,1,1,1,5,5,6\r\n"
    )


def test_a_matching_if_none_match_gets_304_and_a_change_a_new_etag(api_client, places):
    killed(places["idlib"], 5)
    first = api_client.get(URL, {"interval": "month"})
    etag = first["ETag"]

    again = api_client.get(URL, {"interval": "month"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""

    killed(places["idlib"], 1)
    changed = api_client.get(URL, {"interval": "month"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert api_client.get(URL, {"interval": "month", "format": "csv"})["ETag"] not in (etag, changed["ETag"])


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"interval": "hour"}, "interval", '"hour" is not a valid choice.'),
        ({"region_level": "5"}, "region_level", "Ensure this value is less than or equal to 4."),
        ({"region_level": "x"}, "region_level", "A valid integer is required."),
        ({"casualty_status": "children"}, "casualty_status", '"children" is not a valid choice.'),
        ({"group": "civilian"}, "group", '"civilian" is not a valid choice.'),
        ({"basis": "rumours"}, "basis", '"rumours" is not a valid choice.'),
        ({"fill": "true", "date_from": "2017-01-01", "date_to": "2017-02-01"}, "fill", "fill needs an interval."),
        (
            {"fill": "true", "interval": "day", "date_from": "2017-01-01"},
            "fill",
            "fill needs date_from and date_to: the range to fill.",
        ),
        (
            {"fill": "true", "interval": "day", "date_from": "2017-02-01", "date_to": "2017-01-01"},
            "date_to",
            "date_to must not be before date_from.",
        ),
        (
            {"basis": "reported_totals"},
            "source",
            "basis=reported_totals needs source: the period totals of one source are summed.",
        ),
        (
            {"basis": "reported_totals", "source": "SOHR", "incident_type": "armed-clash"},
            "incident_type",
            "Does not apply with basis=reported_totals: period totals are not about incidents.",
        ),
        ({"intervall": "month"}, "intervall", "Unknown parameter; did you mean interval?"),
        ({"date_from": "July 2017"}, "date_from", "Enter a valid date."),
        ({"region": "XX99"}, "region", "No region has the code 'XX99'."),
        ({"format": "xml"}, "format", 'Use "json" or "csv".'),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(api_client, places, params, field, message):
    SourceFactory(acronym="SOHR")
    IncidentTypeFactory()

    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    errors = response.json()[field]
    assert (errors if isinstance(errors, str) else errors[0]) == message


def test_a_source_name_shared_by_two_sources_is_refused_for_reported_totals(api_client, places):
    SourceFactory(acronym="SN", name="Syrian Network A")
    SourceFactory(acronym="SN", name="Syrian Network B")

    response = api_client.get(URL, {"basis": "reported_totals", "source": "SN"})

    assert response.status_code == 400
    assert response.json() == {"source": ["This names more than one source; give the source's id."]}


def test_a_request_over_the_row_cap_is_a_400_that_says_how_to_narrow_it(api_client, places):
    response = api_client.get(
        URL, {"interval": "day", "fill": "true", "date_from": "1700-01-01", "date_to": "2017-12-31"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "This request would return about 116147 rows (cap 100000): narrow date_from/date_to, use a "
        "coarser interval or region_level, or filter by region or country."
    }


def test_errors_of_a_csv_request_are_json(api_client, places):
    response = api_client.get(URL, {"interval": "hour", "format": "csv"})

    assert response.status_code == 400
    assert response.json() == {"interval": ['"hour" is not a valid choice.']}


def test_options_describes_the_endpoint_in_json_even_with_format_csv(api_client):
    response = api_client.options(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == "Aggregate"


def test_an_aggregate_request_is_a_size_check_and_one_query(api_client, places):
    killed(places["district"], 5)

    with CaptureQueriesContext(connection) as context:
        response = api_client.get(URL, {"interval": "week", "region_level": 3})
    assert response.status_code == 200
    size_check, query = data_queries(context)
    assert "GROUPING SETS" not in size_check
    assert "casualties_incident" in query
    assert "casualties_summarycell" not in query  # admin3 is finer than the summary cells
    # One transaction with the aggregate's settings holds both.
    assert sum("set_config('work_mem'" in q["sql"] for q in context.captured_queries) == 1
    # Naming a region costs its look-up while the parameters are validated; the aggregation stays one query,
    # here one that reads the summary cells.
    with CaptureQueriesContext(connection) as context:
        assert api_client.get(URL, {"interval": "week", "region": "SY07"}).status_code == 200
    region_lookup, size_check, query = data_queries(context)
    assert "casualties_region" in region_lookup
    assert "GROUPING SETS" not in size_check
    assert "casualties_summarycell" in query


def test_the_schema_documents_every_aggregate_parameter(api_client):
    response = api_client.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/aggregates/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {
        "interval", "region_level", "outcome", "casualty_status", "group", "basis", "fill", "format",
        "date_from", "date_to", "region", "country", "actor", "incident_type", "status", "source",
    } <= names  # fmt: skip
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}


@pytest.mark.slow  # loads the whole reference gazetteer
def test_the_demo_answers_killed_in_idlib_governorate_in_july_2017_from_both_bases(api_client):
    call_command("seed", "--demo", stdout=io.StringIO())
    july_in_idlib = {"region": "SY07", "date_from": "2017-07-01", "date_to": "2017-07-31", "interval": "month"}
    july_in_idlib |= {"region_level": 1, "outcome": "killed", "casualty_status": "all"}

    incidents = api_client.get(URL, july_in_idlib)
    totals = api_client.get(URL, {**july_in_idlib, "basis": "reported_totals", "source": "SOHR"})

    # Six verified clashes, none with a figure of its own: the count is known, the casualties are not.
    assert incidents.status_code == 200, incidents.content
    assert [(r["period_start"], r["region_code"], r["incidents"], r["best"]) for r in incidents.json()["results"]] == [
        ("2017-07-01", "SY07", 6, None)
    ]
    assert incidents.json()["totals"] == {
        "incidents": 6, "incidents_with_figures": 0, "low": None, "best": None, "high": None,
    }  # fmt: skip
    # SOHR's one total: about 40 civilians and militants killed in the governorate in 24 hours.
    assert totals.status_code == 200, totals.content
    assert [(r["period_start"], r["region_code"], r["best"]) for r in totals.json()["results"]] == [
        ("2017-07-01", "SY07", 40)
    ]
    assert totals.json()["totals"] == {
        "incidents": None,
        "incidents_with_figures": None,
        "low": 40,
        "best": 40,
        "high": 40,
    }
    # Civilians alone: SOHR did not separate them, so there is no civilian total.
    civilians = api_client.get(
        URL, {**july_in_idlib, "basis": "reported_totals", "source": "SOHR", "casualty_status": "civilian"}
    )
    assert civilians.json()["results"] == []


def test_csv_quotes_as_rfc_4180_and_the_renderer_gives_the_same_text():
    rows = [{"period_start": D(2017, 7, 1), "region_name": 'Idlib, the "green" province', "best": 0, "low": None}]

    text = "".join(csv_stream(["period_start", "region_name", "low", "best"], rows))

    assert text == 'period_start,region_name,low,best\r\n2017-07-01,"Idlib, the ""green"" province",,0\r\n'
    rendered = CSVRenderer().render({"results": [dict.fromkeys(ROW_FIELDS) | rows[0]]}).decode()
    assert rendered.splitlines()[1] == '2017-07-01,,,"Idlib, the ""green"" province",,,,,0,'


@pytest.mark.django_db(transaction=True)
def test_an_aggregate_stopped_by_its_time_limit_is_a_503_that_says_how_to_narrow_it(api_client, monkeypatch):
    import psycopg

    from casualties import aggregate_sql

    IncidentFactory(region=RegionFactory(code="SY07", parent=RegionFactory(code="SYR")))
    monkeypatch.setattr(aggregate_sql, "AGGREGATE_TIME_LIMIT", "200ms")
    holder = psycopg.connect(**connection.get_connection_params(), autocommit=False)
    try:
        holder.execute("LOCK TABLE casualties_estimate IN ACCESS EXCLUSIVE MODE")
        response = api_client.get(URL, {"interval": "month", "region_level": "3", "format": "csv"})
    finally:
        holder.close()

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("This aggregate took longer than 200ms and was stopped: narrow")


def test_a_request_refused_before_the_work_is_a_400_saying_more_than_the_cap(api_client, monkeypatch):
    import functools

    from casualties.api import aggregates
    from casualties.selectors import AggregateOptions

    syria = RegionFactory(code="SYR")
    district = RegionFactory(code="SY0700", parent=RegionFactory(code="SY07", parent=syria))
    for day in range(1, 4):
        IncidentFactory(region=district, date_start=datetime.date(2017, 7, day))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casualties_summarycell")  # the planner then expects the 3 cells there are
    monkeypatch.setattr(aggregates, "AggregateOptions", functools.partial(AggregateOptions, cap=2))

    response = api_client.get(URL, {"interval": "day", "region_level": "2"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "This request would return more than 2 rows: narrow date_from/date_to, use a coarser interval or "
        "region_level, or filter by region or country."
    }
