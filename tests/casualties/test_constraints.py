"""Every invariant the database can hold rejects its bad row, through raw SQL and through the ORM."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from psycopg import errors

from casualties.models import CasualtyTally, Incident, Region
from tests.factories import (
    ActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

pytestmark = pytest.mark.django_db
TOMORROW_PLUS = datetime.date.today() + datetime.timedelta(days=2)


@pytest.fixture
def base():
    country = RegionFactory(code="SYR", name="Syria")
    governorate = RegionFactory(code="SY07", name="Idleb", parent=country)
    source = SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR")
    return {
        "country": country,
        "governorate": governorate,
        "source": source,
        "report": ReportFactory(source=source),
        "incident_type": IncidentTypeFactory(),
        "incident": IncidentFactory(region=governorate),
        "actor": ActorFactory(),
        "period": ReportingPeriodFactory(),
    }


def valid_row(table: str, b: dict) -> dict:
    """A row of ``table`` that satisfies every constraint."""
    rows = {
        "sources_source": {"name": "Airwars", "acronym": "", "kind": "ngo", "country": "", "website": "",
                           "reliability": "", "description": "", "created_at": "now()", "updated_at": "now()"},
        "sources_report": {"source_id": b["source"].pk, "title": "t", "url": "https://example.org/x",
                           "archive_url": "", "published_on": "2017-07-20", "language": "", "external_id": "",
                           "summary": "", "credibility": None, "created_at": "now()", "updated_at": "now()"},
        "casualties_region": {"code": "SY0700", "iso_code": "", "name": "Idleb district", "name_local": "",
                              "alternate_names": [], "level": 2, "parent_id": b["governorate"].pk, "path": "",
                              "latitude": None, "longitude": None, "search_names": ""},
        "casualties_actorname": {"actor_id": b["actor"].pk, "name": "Jabhat al-Nusra", "acronym": "",
                                 "valid_from": "2012-01-23", "valid_to": "2016-07-28"},
        "casualties_incident": {"public_id": "5b0e7b0a-54a4-4c1e-9d51-1f0c7f7f0001", "title": "t", "description": "",
                                "date_start": "2017-07-18", "date_end": "2017-07-19", "date_precision": "days",
                                "region_id": b["governorate"].pk, "place_name": "Ebelin", "latitude": None,
                                "longitude": None, "location_precision": "admin1",
                                "incident_type_id": b["incident_type"].pk, "status": "draft",
                                "duplicate_of_id": None, "external_id": "", "version": 1,
                                "created_at": "now()", "updated_at": "now()"},
        "casualties_incidentactor": {"incident_id": b["incident"].pk, "actor_id": b["actor"].pk, "role": "side_a"},
        "casualties_reportingperiod": {"date_start": "2017-07-01", "date_end": "2017-07-31", "label": "July 2017"},
        "casualties_casualtytally": {"report_id": b["report"].pk, "incident_id": b["incident"].pk, "region_id": None,
                                     "reporting_period_id": None, "outcome": "killed", "status": "civilian",
                                     "casualty_group": "all", "low": 30, "best": 40, "high": 45,
                                     "qualifier": "approximately", "reported_phrase": "", "is_preferred": False,
                                     "notes": "", "source_id": b["source"].pk, "period": None,
                                     "created_at": "now()", "updated_at": "now()"},
    }  # fmt: skip
    return rows[table]


def execute(sql: str, params=None) -> None:
    """Run one statement in a savepoint, with deferred constraint triggers checked at its end."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)


def insert(table: str, row: dict) -> None:
    """INSERT one row with plain SQL (no model code involved); ``now()`` strings become the SQL function."""
    columns, values, params = [], [], []
    for column, value in row.items():
        columns.append(f'"{column}"')
        if value == "now()":
            values.append("now()")
        else:
            values.append("%s")
            params.append(value)
    execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})", params)


def insert_fails(table: str, row: dict, error: type[Exception]) -> None:
    with pytest.raises(IntegrityError) as caught:
        insert(table, row)
    assert isinstance(caught.value.__cause__, error), caught.value.__cause__


@pytest.mark.parametrize(
    "table",
    [
        "sources_source",
        "sources_report",
        "casualties_region",
        "casualties_actorname",
        "casualties_incident",
        "casualties_incidentactor",
        "casualties_reportingperiod",
        "casualties_casualtytally",
    ],
)
def test_the_valid_reference_row_of_each_table_is_accepted_by_raw_sql(base, table):
    before = _count(table)
    insert(table, valid_row(table, base))
    assert _count(table) == before + 1


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


CHECK = errors.CheckViolation
UNIQUE = errors.UniqueViolation
NOT_NULL = errors.NotNullViolation


@pytest.mark.parametrize(
    ("table", "change", "error"),
    [
        ("sources_source", {"kind": "blog"}, CHECK),
        ("sources_source", {"reliability": "G"}, CHECK),
        ("sources_source", {"name": "Syrian Observatory for Human Rights"}, UNIQUE),
        ("sources_report", {"published_on": TOMORROW_PLUS.isoformat()}, CHECK),
        ("sources_report", {"credibility": 7}, CHECK),
        ("casualties_region", {"level": 5, "parent_id": None}, CHECK),
        ("casualties_region", {"level": 0}, CHECK),  # a root must be a country and a country a root
        ("casualties_region", {"level": 3}, CHECK),  # one level below its parent, by trigger
        ("casualties_region", {"latitude": 35.9}, CHECK),
        ("casualties_region", {"latitude": 95, "longitude": 36}, CHECK),
        ("casualties_region", {"code": "SY/07"}, CHECK),
        ("casualties_region", {"code": "SY07"}, UNIQUE),
        ("casualties_actorname", {"valid_from": "2017-01-01", "valid_to": "2016-01-01"}, CHECK),
        ("casualties_incident", {"date_start": "2017-07-20", "date_end": "2017-07-19"}, CHECK),
        ("casualties_incident", {"date_end": TOMORROW_PLUS.isoformat()}, CHECK),
        ("casualties_incident", {"latitude": 35.9}, CHECK),
        ("casualties_incident", {"longitude": 36.6}, CHECK),
        ("casualties_incident", {"latitude": 35.9, "longitude": 181}, CHECK),
        ("casualties_incident", {"location_precision": "exact"}, CHECK),  # exact place without a point
        ("casualties_incident", {"location_precision": "street"}, CHECK),
        ("casualties_incident", {"status": "published"}, CHECK),
        ("casualties_incident", {"date_precision": "decade"}, CHECK),
        ("casualties_incidentactor", {"role": "bystander"}, CHECK),
        ("casualties_reportingperiod", {"date_start": "2017-08-01"}, CHECK),
        ("casualties_reportingperiod", {"date_end": TOMORROW_PLUS.isoformat()}, CHECK),
        ("casualties_casualtytally", {"low": 41}, CHECK),
        ("casualties_casualtytally", {"high": 39}, CHECK),
        ("casualties_casualtytally", {"low": -1}, CHECK),
        ("casualties_casualtytally", {"outcome": "displaced"}, CHECK),
        ("casualties_casualtytally", {"status": "militant"}, CHECK),
        ("casualties_casualtytally", {"casualty_group": "teenagers"}, CHECK),
        ("casualties_casualtytally", {"qualifier": "roughly"}, CHECK),
        ("casualties_casualtytally", {"incident_id": None}, CHECK),  # neither target
        ("casualties_casualtytally", {"report_id": None}, NOT_NULL),  # a figure always cites a report
    ],
)
def test_raw_sql_insert_breaking_an_invariant_is_refused(base, table, change, error):
    insert_fails(table, {**valid_row(table, base), **change}, error)


def test_a_tally_about_both_an_incident_and_a_period_total_is_refused(base):
    row = {**valid_row("casualties_casualtytally", base)}
    row.update(region_id=base["governorate"].pk, reporting_period_id=base["period"].pk)
    insert_fails("casualties_casualtytally", row, CHECK)


def test_the_same_report_cannot_give_two_figures_for_one_incident_outcome_status_and_group(base):
    insert("casualties_casualtytally", valid_row("casualties_casualtytally", base))
    insert_fails("casualties_casualtytally", valid_row("casualties_casualtytally", base), UNIQUE)


def test_only_one_tally_per_incident_outcome_status_and_group_is_preferred(base):
    other_report = ReportFactory(source=base["source"])
    insert("casualties_casualtytally", {**valid_row("casualties_casualtytally", base), "is_preferred": True})
    row = {**valid_row("casualties_casualtytally", base), "report_id": other_report.pk, "is_preferred": True}
    insert_fails("casualties_casualtytally", row, UNIQUE)


def period_total_row(base, period, **change) -> dict:
    row = {**valid_row("casualties_casualtytally", base), "incident_id": None}
    row.update(region_id=base["governorate"].pk, reporting_period_id=period.pk, **change)
    return row


def test_one_sources_period_totals_for_a_region_cannot_overlap_in_time(base):
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    last_day = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 31), date_end=datetime.date(2017, 8, 1))
    insert("casualties_casualtytally", period_total_row(base, july))
    later_report = ReportFactory(source=base["source"])
    insert_fails(
        "casualties_casualtytally",
        period_total_row(base, last_day, report_id=later_report.pk),
        errors.ExclusionViolation,
    )


def test_adjacent_periods_and_other_sources_may_be_entered_beside_a_period_total(base):
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    august = ReportingPeriodFactory(date_start=datetime.date(2017, 8, 1), date_end=datetime.date(2017, 8, 31))
    insert("casualties_casualtytally", period_total_row(base, july))
    insert(
        "casualties_casualtytally", period_total_row(base, august, report_id=ReportFactory(source=base["source"]).pk)
    )
    other_source_report = ReportFactory()
    # The copied source comes from the report whatever the insert says, so this is the other source's total.
    insert(
        "casualties_casualtytally",
        period_total_row(base, july, report_id=other_source_report.pk, source_id=base["source"].pk),
    )
    assert CasualtyTally.objects.filter(region=base["governorate"]).count() == 3
    assert set(CasualtyTally.objects.values_list("source_id", flat=True)) == {
        base["source"].pk,
        other_source_report.source_id,
    }


def test_the_overlap_rule_follows_a_reporting_period_whose_dates_are_edited(base):
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    august = ReportingPeriodFactory(date_start=datetime.date(2017, 8, 1), date_end=datetime.date(2017, 8, 31))
    insert("casualties_casualtytally", period_total_row(base, july))
    insert(
        "casualties_casualtytally", period_total_row(base, august, report_id=ReportFactory(source=base["source"]).pk)
    )
    with pytest.raises(IntegrityError):
        execute("UPDATE casualties_reportingperiod SET date_start = '2017-07-15' WHERE id = %s", [august.pk])


def test_an_of_which_figure_above_the_all_figure_of_the_same_report_is_refused(base):
    insert("casualties_casualtytally", valid_row("casualties_casualtytally", base))
    children = {**valid_row("casualties_casualtytally", base), "casualty_group": "children"}
    insert_fails("casualties_casualtytally", {**children, "low": 41, "best": 41, "high": 41}, CHECK)
    insert_fails("casualties_casualtytally", {**children, "low": 10, "best": 10, "high": 46}, CHECK)
    insert("casualties_casualtytally", {**children, "low": 10, "best": 12, "high": 45})


def test_lowering_the_all_figure_below_its_of_which_figure_is_refused(base):
    insert("casualties_casualtytally", valid_row("casualties_casualtytally", base))
    insert("casualties_casualtytally", {**valid_row("casualties_casualtytally", base), "casualty_group": "children",
                                        "low": 20, "best": 20, "high": 20})  # fmt: skip
    with pytest.raises(IntegrityError):
        execute("UPDATE casualties_casualtytally SET low = 5, best = 10, high = 15 WHERE casualty_group = 'all'")


def test_an_incidents_public_id_never_changes(base):
    incident = base["incident"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(public_id="5b0e7b0a-54a4-4c1e-9d51-1f0c7f7f0002")
    incident.refresh_from_db()
    assert Incident.objects.get(pk=incident.pk).public_id == incident.public_id


def test_an_incident_cannot_be_a_duplicate_of_itself(base):
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=base["incident"].pk).update(duplicate_of=base["incident"])


def test_every_update_raises_the_incident_version_whatever_path_it_takes(base):
    incident = base["incident"]
    assert incident.version == 1
    Incident.objects.filter(pk=incident.pk).update(title="Renamed")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE casualties_incident SET place_name = 'Ebelin' WHERE id = %s", [incident.pk])
    incident.refresh_from_db()
    assert incident.version == 3


def test_a_tally_copies_its_reports_source_and_follows_it_when_the_report_moves(base):
    tally = TallyFactory(report=base["report"], incident=base["incident"])
    assert tally.source_id == base["source"].pk
    other = SourceFactory()
    type(base["report"]).objects.filter(pk=base["report"].pk).update(source=other)
    tally.refresh_from_db()
    assert tally.source_id == other.pk


def test_region_paths_follow_a_moved_parent_down_the_tree(base):
    district = RegionFactory(code="SY0700", parent=base["governorate"])
    sub = RegionFactory(code="SY070000", parent=district)
    assert Region.objects.get(pk=sub.pk).path == "SYR/SY07/SY0700/SY070000/"
    Region.objects.filter(pk=base["governorate"].pk).update(code="SY7")
    assert Region.objects.get(pk=sub.pk).path == "SYR/SY7/SY0700/SY070000/"
    assert list(Region.objects.subtree(Region.objects.get(code="SY7")).values_list("code", flat=True)) == [
        "SY7",
        "SY0700",
        "SY070000",
    ]


def test_region_search_names_hold_every_spelling_folded_for_search(base):
    region = RegionFactory(
        code="SY0703", name="Harim", name_local="حارم", alternate_names=["Harem"], parent=base["governorate"]
    )
    region.refresh_from_db()
    assert region.search_names == "sy0703 harim حارم harim"  # folded: e reads as i


def test_a_save_that_changes_nothing_leaves_the_incident_version_alone(base):
    incident = Incident.objects.get(pk=base["incident"].pk)
    incident.save()
    incident.refresh_from_db()
    assert incident.version == 1


def test_bulk_and_raw_updates_stamp_updated_at_so_sync_sees_them(base):
    old = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    tally = TallyFactory(report=base["report"], incident=base["incident"])
    for table, pk in [
        ("casualties_incident", base["incident"].pk),
        ("casualties_casualtytally", tally.pk),
        ("casualties_region", base["governorate"].pk),
        ("sources_report", base["report"].pk),
        ("sources_source", base["source"].pk),
    ]:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET updated_at = %s WHERE id = %s", [old, pk])
    Incident.objects.filter(pk=base["incident"].pk).update(title="Renamed")
    CasualtyTally.objects.filter(pk=tally.pk).update(reported_phrase="about 10")
    Region.objects.filter(pk=base["governorate"].pk).update(name_local="إدلب")
    execute("UPDATE sources_report SET summary = 'x' WHERE id = %s", [base["report"].pk])
    execute("UPDATE sources_source SET website = 'https://example.org' WHERE id = %s", [base["source"].pk])
    for model, pk in [
        (Incident, base["incident"].pk),
        (CasualtyTally, tally.pk),
        (Region, base["governorate"].pk),
        (type(base["report"]), base["report"].pk),
        (type(base["source"]), base["source"].pk),
    ]:
        assert model.objects.get(pk=pk).updated_at > old, model


def test_a_tally_moved_to_another_sources_report_carries_the_new_source_in_memory_too(base):
    tally = TallyFactory(report=base["report"], incident=base["incident"])
    other_report = ReportFactory()
    tally.report = other_report
    tally.save()
    assert tally.source_id == other_report.source_id
    tally.refresh_from_db()
    assert tally.source_id == other_report.source_id
