import datetime

import pytest

from casualties.models import ActorName, CasualtyTally, Region, ReportingPeriod
from casualties.roles import DATA_ENTRY, RESEARCHER, REVIEWER
from tests.casualties.test_api_incidents import token_client, user_with_role
from tests.factories import (
    ActorFactory,
    IncidentFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gazetteer():
    syria = RegionFactory(code="SYR", iso_code="SYR", name="Syria", name_local="سوريا")
    idlib = RegionFactory(
        code="SY07", iso_code="SY-ID", name="Idlib", name_local="إدلب", alternate_names=["Idleb"], parent=syria
    )
    RegionFactory(code="SY0703", name="Ariha", parent=idlib)
    RegionFactory(code="SY02", name="Aleppo", name_local="حلب", parent=syria)
    return idlib


def codes(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["code"] for row in response.json()["results"]]


def test_regions_filter_by_level_and_parent(api_client, gazetteer):
    assert codes(api_client.get("/api/v1/regions/", {"level": 1})) == ["SY02", "SY07"]
    assert codes(api_client.get("/api/v1/regions/", {"parent": "SY07"})) == ["SY0703"]
    assert codes(api_client.get("/api/v1/regions/", {"within": "SY07"})) == ["SY07", "SY0703"]


@pytest.mark.parametrize(("text", "expected"), [("idleb", ["SY07"]), ("إدلب", ["SY07"]), ("ALEP", ["SY02"])])
def test_regions_search_by_any_name_spelling_or_arabic(api_client, gazetteer, text, expected):
    assert codes(api_client.get("/api/v1/regions/", {"q": text})) == expected


def test_region_detail_lists_its_ancestors(api_client, gazetteer):
    body = api_client.get("/api/v1/regions/SY0703/").json()
    assert body["parent"] == "SY07"
    assert body["ancestors"] == [
        {"code": "SYR", "name": "Syria", "name_local": "سوريا", "level": 0},
        {"code": "SY07", "name": "Idlib", "name_local": "إدلب", "level": 1},
    ]


@pytest.mark.parametrize(("query", "parameter"), [({"parent": "XX"}, "parent"), ({"level": 9}, "level")])
def test_bad_region_parameters_are_400s(api_client, gazetteer, query, parameter):
    response = api_client.get("/api/v1/regions/", query)
    assert response.status_code == 400
    assert list(response.json()) == [parameter]


def test_regions_updated_since(api_client, gazetteer):
    Region.objects.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    Region.objects.filter(code="SY02").update(updated_at=datetime.datetime(2022, 1, 1, tzinfo=datetime.UTC))
    assert codes(api_client.get("/api/v1/regions/", {"updated_since": "2021-01-01T00:00:00Z"})) == ["SY02"]


def test_actors_are_found_by_any_former_name(api_client):
    hts = ActorFactory(name="Hay'at Tahrir al-Sham", acronym="HTS")
    ActorName.objects.create(actor=hts, name="Jabhat Fatah al-Sham", valid_to=datetime.date(2017, 1, 28))
    ActorFactory(name="Ahrar al-Sham")
    body = api_client.get("/api/v1/actors/", {"q": "fatah"}).json()
    assert [row["name"] for row in body["results"]] == ["Hay'at Tahrir al-Sham"]
    assert body["results"][0]["former_names"] == [
        {"name": "Jabhat Fatah al-Sham", "acronym": "", "valid_from": None, "valid_to": "2017-01-28"}
    ]


def test_reporting_periods_filter_by_overlap(api_client):
    ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    ReportingPeriodFactory(date_start=datetime.date(2017, 8, 1), date_end=datetime.date(2017, 8, 31))
    body = api_client.get("/api/v1/reporting-periods/", {"date_from": "2017-07-20", "date_to": "2017-07-21"}).json()
    assert [(r["date_start"], r["date_end"]) for r in body["results"]] == [("2017-07-01", "2017-07-31")]


def test_tallies_list_hides_figures_of_incidents_the_caller_may_not_see(api_client):
    public = TallyFactory(incident=IncidentFactory())
    draft = TallyFactory(incident=IncidentFactory(status="draft"))
    period = ReportingPeriodFactory()
    total = TallyFactory(incident=None, region=RegionFactory(), reporting_period=period)
    body = api_client.get("/api/v1/tallies/").json()
    assert sorted(row["id"] for row in body["results"]) == sorted([public.pk, total.pk])
    reviewer_body = token_client(user_with_role(REVIEWER)).get("/api/v1/tallies/").json()
    assert sorted(row["id"] for row in reviewer_body["results"]) == sorted([public.pk, draft.pk, total.pk])
    assert api_client.get(f"/api/v1/tallies/{draft.pk}/").status_code == 404


def test_tallies_filter_by_incident_source_and_kind(api_client):
    incident = IncidentFactory()
    sohr = ReportFactory(source__acronym="SOHR")
    mine = TallyFactory(incident=incident, report=sohr)
    TallyFactory(incident=IncidentFactory())
    total = TallyFactory(incident=None, region=RegionFactory(code="SY07"), reporting_period=ReportingPeriodFactory())
    ids = lambda q: [row["id"] for row in api_client.get("/api/v1/tallies/", q).json()["results"]]  # noqa: E731
    assert ids({"incident": str(incident.public_id)}) == [mine.pk]
    assert ids({"source": "SOHR"}) == [mine.pk]
    assert ids({"is_period_total": "true"}) == [total.pk]
    assert ids({"region": "SY07"}) == [total.pk]
    assert api_client.get("/api/v1/tallies/", {"incident": "not-a-uuid"}).status_code == 400


def tally_body(incident, report, **overrides) -> dict:
    body = {
        "report": report.pk, "incident": str(incident.public_id), "outcome": "killed", "status": "unknown",
        "best": 40, "qualifier": "approximately", "reported_phrase": "about 40 civilians and militants killed",
    }  # fmt: skip
    return {**body, **overrides}


def test_data_entry_adds_a_figure_to_their_draft_with_low_and_high_defaulting_to_best():
    user = user_with_role(DATA_ENTRY)
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    response = token_client(user).post("/api/v1/tallies/", tally_body(incident, report), format="json")
    assert response.status_code == 201, response.json()
    tally = CasualtyTally.objects.get()
    assert (tally.low, tally.best, tally.high, tally.source_id) == (40, 40, 40, report.source_id)
    assert response.json()["source"] == report.source_id


def test_a_retried_figure_creates_nothing_new_and_different_numbers_conflict():
    user = user_with_role(DATA_ENTRY)
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    client = token_client(user)
    body = tally_body(incident, report)
    assert client.post("/api/v1/tallies/", body, format="json").status_code == 201
    assert client.post("/api/v1/tallies/", body, format="json").status_code == 200
    assert client.post("/api/v1/tallies/", {**body, "best": 41}, format="json").status_code == 409
    assert list(CasualtyTally.objects.values_list("best", flat=True)) == [40]


def test_data_entry_cannot_add_figures_to_a_verified_incident():
    user = user_with_role(DATA_ENTRY)
    response = token_client(user).post(
        "/api/v1/tallies/", tally_body(IncidentFactory(), ReportFactory()), format="json"
    )
    assert response.status_code == 403
    assert CasualtyTally.objects.count() == 0


def test_a_subgroup_above_the_all_figure_is_a_400_not_a_500():
    user = user_with_role(DATA_ENTRY)
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    client = token_client(user)
    assert client.post("/api/v1/tallies/", tally_body(incident, report, best=10), format="json").status_code == 201
    response = client.post("/api/v1/tallies/", tally_body(incident, report, best=12, group="children"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "best": [
            "The of which children figure (best 12, high 12) exceeds the figure for all from the same report "
            "(best 10, high 10)."
        ]
    }
    assert CasualtyTally.objects.count() == 1


def test_overlapping_period_totals_are_a_400_not_a_500():
    user = user_with_role(DATA_ENTRY)
    region, report = RegionFactory(code="SY07"), ReportFactory()
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    week = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 20), date_end=datetime.date(2017, 7, 26))
    client = token_client(user)
    body = {"report": report.pk, "region": "SY07", "outcome": "killed", "status": "civilian", "best": 100}
    assert client.post("/api/v1/tallies/", {**body, "reporting_period": july.pk}, format="json").status_code == 201
    other_report = ReportFactory(source=report.source)
    response = client.post(
        "/api/v1/tallies/", {**body, "report": other_report.pk, "reporting_period": week.pk}, format="json"
    )
    assert response.status_code == 400
    assert "overlaps" in str(response.json())
    assert CasualtyTally.objects.filter(region=region).count() == 1


def test_a_figure_about_both_an_incident_and_a_region_is_a_400():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    body = tally_body(
        incident, ReportFactory(), region=RegionFactory().code, reporting_period=ReportingPeriodFactory().pk
    )
    response = token_client(user).post("/api/v1/tallies/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["incident"]


def test_only_a_reviewer_marks_a_figure_preferred():
    user = user_with_role(DATA_ENTRY)
    incident = IncidentFactory(status="draft", created_by=user)
    body = tally_body(incident, ReportFactory(), is_preferred=True)
    assert token_client(user).post("/api/v1/tallies/", body, format="json").status_code == 403
    assert token_client(user_with_role(REVIEWER)).post("/api/v1/tallies/", body, format="json").status_code == 201


def test_a_figure_update_needs_the_updated_at_it_read():
    user = user_with_role(DATA_ENTRY)
    tally = TallyFactory(incident=IncidentFactory(status="draft", created_by=user), best=10)
    client = token_client(user)
    read = client.get(f"/api/v1/tallies/{tally.pk}/").json()
    stale = {"best": 12, "high": 12, "updated_at": read["updated_at"]}
    assert client.patch(f"/api/v1/tallies/{tally.pk}/", {"best": 12, "high": 12}, format="json").status_code == 400
    assert client.patch(f"/api/v1/tallies/{tally.pk}/", stale, format="json").status_code == 200
    response = client.patch(f"/api/v1/tallies/{tally.pk}/", stale, format="json")
    assert response.status_code == 409
    tally.refresh_from_db()
    assert (tally.best, tally.high) == (12, 12)


def test_a_user_without_a_role_cannot_add_figures():
    incident = IncidentFactory(status="draft")
    response = token_client(UserFactory()).post(
        "/api/v1/tallies/", tally_body(incident, ReportFactory()), format="json"
    )
    assert response.status_code == 403


def test_reporting_period_and_region_lists_and_details_answer(api_client, gazetteer):
    period = ReportingPeriod.objects.create(date_start=datetime.date(2017, 7, 19), date_end=datetime.date(2017, 7, 20))
    assert api_client.get(f"/api/v1/reporting-periods/{period.pk}/").json()["date_end"] == "2017-07-20"
    assert api_client.get("/api/v1/regions/NOPE/").status_code == 404


def test_a_time_zone_offset_the_database_cannot_store_is_taken_to_utc(api_client):
    incident = IncidentFactory()
    response = api_client.get("/api/v1/incidents/", {"updated_since": "2017-07-20T00:00:00+20:20"})
    assert [row["public_id"] for row in response.json()["results"]] == [str(incident.public_id)]


def test_a_date_time_beyond_the_calendar_in_utc_is_a_400(api_client):
    response = api_client.get("/api/v1/incidents/", {"updated_since": "9999-12-31T23:00:00-10:00"})
    assert response.status_code == 400
    assert list(response.json()) == ["updated_since"]


def test_is_period_total_accepts_only_true_or_false(api_client):
    response = api_client.get("/api/v1/tallies/", {"is_period_total": "maybe"})
    assert response.status_code == 400
    assert list(response.json()) == ["is_period_total"]


def test_an_unknown_api_path_is_a_json_404(api_client):
    response = api_client.get("/api/v1/sources/1.5/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_nul_character_in_a_region_code_is_a_400():
    user = user_with_role(DATA_ENTRY)
    body = {"report": ReportFactory().pk, "region": "SY\x0007", "reporting_period": ReportingPeriodFactory().pk}
    response = token_client(user).post(
        "/api/v1/tallies/", {**body, "outcome": "killed", "status": "civilian", "best": 1}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["region"]


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/api/v1/regions/", 1),  # regions with parents
        ("/api/v1/actors/", 2),  # actors; their former names
        ("/api/v1/tallies/", 1),  # figures with incidents, regions and reports
        ("/api/v1/reports/", 1),
        ("/api/v1/sources/", 1),
        ("/api/v1/reporting-periods/", 1),
    ],
)
def test_each_list_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries, url, queries):
    for day in range(1, 4):
        ReportingPeriodFactory(date_start=datetime.date(2017, 7, day), date_end=datetime.date(2017, 7, day))
        country = RegionFactory()
        RegionFactory(parent=country)
        ActorName.objects.create(actor=ActorFactory(), name="Former")
        TallyFactory(incident=IncidentFactory(region=country))
    with django_assert_num_queries(queries):
        response = api_client.get(url)
    assert len(response.json()["results"]) >= 3


def test_actors_filter_by_kind(api_client):
    ActorFactory(name="Syrian Arab Army", kind="state_forces")
    ActorFactory(name="Ahrar al-Sham", kind="non_state_armed_group")
    body = api_client.get("/api/v1/actors/", {"kind": "state_forces"}).json()
    assert [row["name"] for row in body["results"]] == ["Syrian Arab Army"]


def test_tallies_filter_by_report_outcome_status_and_group(api_client):
    incident, report = IncidentFactory(), ReportFactory()
    killed = TallyFactory(incident=incident, report=report, outcome="killed", status="civilian", best=10)
    children = TallyFactory(
        incident=incident, report=report, outcome="killed", status="civilian", group="children", best=3
    )
    injured = TallyFactory(incident=incident, outcome="injured", status="combatant")
    ids = lambda q: sorted(row["id"] for row in api_client.get("/api/v1/tallies/", q).json()["results"])  # noqa: E731
    assert ids({"report": report.pk}) == sorted([killed.pk, children.pk])
    assert ids({"outcome": "injured"}) == [injured.pk]
    assert ids({"status": "combatant"}) == [injured.pk]
    assert ids({"group": "children"}) == [children.pk]


@pytest.mark.parametrize(
    ("role", "sees_notes"), [(None, False), (DATA_ENTRY, True), (REVIEWER, True), (RESEARCHER, True)]
)
def test_staff_notes_on_a_figure_are_shown_only_to_the_roles_that_work_with_figures(api_client, role, sees_notes):
    tally = TallyFactory(incident=IncidentFactory(), notes="Hospital list checked by phone.")
    clients = [token_client(user_with_role(role) if role else UserFactory())]
    if role is None:
        clients.append(api_client)
    for client in clients:
        detail = client.get(f"/api/v1/tallies/{tally.pk}/").json()
        listed = client.get("/api/v1/tallies/").json()["results"][0]
        assert detail.get("notes") == listed.get("notes") == ("Hospital list checked by phone." if sees_notes else None)
        assert ("notes" in detail) is sees_notes
        assert detail["best"] == 10


def test_the_author_changes_a_figure_a_reviewer_marked_preferred_without_touching_the_mark():
    author, reviewer = user_with_role(DATA_ENTRY), user_with_role(REVIEWER)
    tally = TallyFactory(incident=IncidentFactory(status="draft", created_by=author), best=10)
    url, reviewing = f"/api/v1/tallies/{tally.pk}/", token_client(reviewer)
    read = reviewing.get(url).json()
    marked = reviewing.patch(url, {"is_preferred": True, "updated_at": read["updated_at"]}, format="json")
    assert (marked.status_code, marked.json()["is_preferred"]) == (200, True)
    client = token_client(author)

    changed = client.patch(url, {"best": 12, "high": 12, "updated_at": marked.json()["updated_at"]}, format="json")
    echoed = client.patch(url, {"is_preferred": True, "updated_at": changed.json()["updated_at"]}, format="json")
    unmarked = client.patch(url, {"is_preferred": False, "updated_at": echoed.json()["updated_at"]}, format="json")

    assert (changed.status_code, changed.json()["best"], changed.json()["is_preferred"]) == (200, 12, True)
    assert echoed.status_code == 200
    assert unmarked.status_code == 403
    tally.refresh_from_db()
    assert (tally.best, tally.is_preferred) == (12, True)
