"""Every write's trigger work touches a bounded number of rows, whatever the size of the tables.

Each kind of write (a new incident with its figures, an edit, a review step, a merge, a period total, a change of
report, period, actor or region) is made once on a database of 500 incidents and once more after it has grown
tenfold, on rows of the same shape. The rows every table gives up to the statements and their triggers (sequential
and index reads, inserts, updates, deletes: PostgreSQL's own per-transaction counters) must come out the same at
both sizes, and at the larger one no statement may read a whole table. No clock is involved.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

BASE_INCIDENTS = 500
GROWTH = 10
# Reference tables stay the size of a gazetteer, a registry or a vocabulary (the cases add a few rows to them,
# and the planner may read a small one whole); every other table grows with the data.
REFERENCE_TABLES = {
    "casualties_region",
    "casualties_incidenttype",
    "casualties_actor",
    "casualties_reportingperiod",
    "sources_source",
}

COUNTERS = """
    SELECT relname, seq_scan, seq_tup_read + coalesce(idx_tup_fetch, 0) + n_tup_ins + n_tup_upd + n_tup_del
      FROM pg_stat_xact_user_tables
"""

INCIDENT_COLUMNS = (
    "public_id, title, description, date_start, date_end, date_precision, region_id, place_name, "
    "location_precision, incident_type_id, status, external_id, version, created_at, updated_at"
)
TALLY_COLUMNS = (
    "report_id, incident_id, region_id, reporting_period_id, outcome, status, casualty_group, low, best, high, "
    "qualifier, reported_phrase, is_preferred, notes, source_id, created_at, updated_at"
)


def sql(statement: str, params: dict | list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def counters() -> dict[str, tuple[int, int]]:
    return {name: (scans, rows) for name, scans, rows in sql(COUNTERS)}


def check_deferred() -> None:
    """Run the deferred constraint triggers (the of-which check, foreign keys) of the writes so far now."""
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql("SET CONSTRAINTS ALL DEFERRED")


def touched(write: Callable[[], None]) -> dict[str, tuple[int, int]]:
    """Per table: (sequential scans, rows read or written) by ``write`` and every trigger it fires, the deferred
    ones included."""
    check_deferred()
    before = counters()
    write()
    check_deferred()
    after = counters()
    changes = {}
    for name, (scans, rows) in after.items():
        scans_before, rows_before = before.get(name, (0, 0))
        if (scans - scans_before, rows - rows_before) != (0, 0):
            changes[name] = (scans - scans_before, rows - rows_before)
    return changes


# ---------------------------------------------------------------- the data


def new_incident(w: dict, *, status: str = "verified", region=None) -> int:
    """An incident of the round's year (each round writes cells of its own)."""
    region = region or w["saraqib"]
    day = datetime.date(w["year"], 7, 19)
    return sql(
        f"INSERT INTO casualties_incident ({INCIDENT_COLUMNS}) VALUES (gen_random_uuid(), 'Clashes', '', %s, %s, "
        "'day', %s, 'Saraqib', 'admin3', %s, %s, '', 1, now(), now()) RETURNING id",
        [day, day, region.pk, w["type"].pk, status],
    )[0][0]


def new_figures(w: dict, incident_id: int, report=None) -> list[int]:
    """Three figures of one report about the incident: killed (all, and children of them) and injured."""
    report = report or ReportFactory(source=w["source"])
    rows = sql(
        f"INSERT INTO casualties_casualtytally ({TALLY_COLUMNS}) SELECT %(report)s, %(incident)s, NULL, NULL, "
        "outcome, 'civilian', grp, n, n, n, 'exact', '', false, '', %(source)s, now(), now() "
        "FROM (VALUES ('killed', 'all', 40), ('killed', 'children', 12), ('injured', 'all', 60)) v (outcome, grp, n) "
        "RETURNING id",
        {"report": report.pk, "incident": incident_id, "source": w["source"].pk},
    )
    return [row[0] for row in rows]


def grow(w: dict, incidents: int) -> None:
    """``incidents`` more verified incidents in other regions over ten years, each with the three figures of
    one of a report per two incidents; then fresh planner statistics."""
    after = sql("SELECT coalesce(max(id), 0) FROM casualties_incident")[0][0]
    reports_after = sql("SELECT coalesce(max(id), 0) FROM sources_report")[0][0]
    sql(
        "INSERT INTO sources_report (source_id, title, url, archive_url, published_on, language, external_id, "
        "summary, created_at, updated_at) SELECT %(source)s, 'Daily toll', 'https://example.org/toll/' || "
        "(%(after)s + n), '', date '2012-01-01' + n %% 3650, '', '', '', now(), now() "
        "FROM generate_series(1, %(reports)s) n",
        {"source": w["source"].pk, "after": reports_after, "reports": incidents // 2},
    )
    sql(
        f"INSERT INTO casualties_incident ({INCIDENT_COLUMNS}) SELECT gen_random_uuid(), 'Shelling', '', d, d, "
        "'day', (%(regions)s::bigint[])[1 + n %% cardinality(%(regions)s::bigint[])], '', 'admin2', %(type)s, "
        "'verified', '', 1, now(), now() FROM generate_series(1, %(incidents)s) n, "
        "LATERAL (SELECT date '2012-01-01' + n %% 3650 AS d) x",
        {"regions": [r.pk for r in w["districts"]], "type": w["type"].pk, "incidents": incidents},
    )
    sql(
        f"INSERT INTO casualties_casualtytally ({TALLY_COLUMNS}) SELECT r.id, i.id, NULL, NULL, v.outcome, "
        "'civilian', v.grp, v.n, v.n, v.n, 'exact', '', false, '', %(source)s, now(), now() "
        "FROM casualties_incident i "
        "JOIN sources_report r ON r.id = %(reports_after)s + 1 + (i.id - %(after)s - 1) / 2 "
        "CROSS JOIN (VALUES ('killed', 'all', 9), ('killed', 'children', 3), ('injured', 'all', 20)) "
        "v (outcome, grp, n) "
        "WHERE i.id > %(after)s",
        {"source": w["source"].pk, "after": after, "reports_after": reports_after},
    )
    sql(
        "INSERT INTO casualties_incidentactor (incident_id, actor_id, role) "
        "SELECT id, %(actor)s, 'side_a' FROM casualties_incident WHERE id > %(after)s",
        {"actor": w["actor"].pk, "after": after},
    )
    check_deferred()
    sql("ANALYZE")


# ---------------------------------------------------------------- the writes (prepared, then measured)


def case_new_incident_with_figures(w):
    return lambda: new_figures(w, new_incident(w))


def case_edit_a_figure(w):
    figure = new_figures(w, new_incident(w))[0]
    return lambda: sql("UPDATE casualties_casualtytally SET low = 50, best = 50, high = 55 WHERE id = %s", [figure])


def case_lower_an_all_figure_below_nothing(w):
    # The "all" side of the of-which check: its subgroups are looked up.
    figure = new_figures(w, new_incident(w))[0]
    return lambda: sql("UPDATE casualties_casualtytally SET low = 13, best = 13, high = 13 WHERE id = %s", [figure])


def case_delete_a_figure(w):
    figure = new_figures(w, new_incident(w))[2]
    return lambda: sql("DELETE FROM casualties_casualtytally WHERE id = %s", [figure])


def case_verify_an_incident(w):
    incident = new_incident(w, status="submitted")
    new_figures(w, incident)
    return lambda: sql("UPDATE casualties_incident SET status = 'verified' WHERE id = %s", [incident])


def case_return_an_incident_to_draft(w):
    incident = new_incident(w)
    new_figures(w, incident)
    return lambda: sql("UPDATE casualties_incident SET status = 'draft' WHERE id = %s", [incident])


def case_merge_two_incidents(w):
    into, duplicate = new_incident(w), new_incident(w)
    new_figures(w, into)
    new_figures(w, duplicate)

    def merge():
        sql("UPDATE casualties_casualtytally SET incident_id = %s WHERE incident_id = %s", [into, duplicate])
        sql("UPDATE casualties_incident SET duplicate_of_id = %s WHERE id = %s", [into, duplicate])

    return merge


def case_delete_an_incident(w):
    incident = new_incident(w)
    new_figures(w, incident)

    def delete():
        # As Django's delete does it: the figures first (their estimates go with them), then the incident.
        sql("DELETE FROM casualties_casualtytally WHERE incident_id = %s", [incident])
        sql("DELETE FROM casualties_incident WHERE id = %s", [incident])

    return delete


def case_period_totals(w):
    year = w["year"]
    period = ReportingPeriodFactory(date_start=datetime.date(year, 7, 1), date_end=datetime.date(year, 7, 31))
    report = ReportFactory(source=SourceFactory())

    def totals():
        sql(
            f"INSERT INTO casualties_casualtytally ({TALLY_COLUMNS}) SELECT %(report)s, NULL, %(region)s, %(period)s, "
            "'killed', 'civilian', grp, n, n, n, 'exact', '', false, '', %(source)s, now(), now() "
            "FROM (VALUES ('all', 400), ('children', 90)) v (grp, n)",
            {"report": report.pk, "region": w["idlib"].pk, "period": period.pk, "source": report.source_id},
        )

    return totals


def case_change_a_reports_date(w):
    report = ReportFactory(source=w["source"])
    for _ in range(3):
        new_figures(w, new_incident(w), report=report)
    return lambda: sql("UPDATE sources_report SET published_on = '2017-07-21' WHERE id = %s", [report.pk])


def case_change_a_reporting_periods_dates(w):
    year = w["year"]
    period = ReportingPeriodFactory(date_start=datetime.date(year, 6, 1), date_end=datetime.date(year, 6, 30))
    report = ReportFactory(source=SourceFactory())
    sql(
        f"INSERT INTO casualties_casualtytally ({TALLY_COLUMNS}) VALUES (%(report)s, NULL, %(region)s, %(period)s, "
        "'killed', 'civilian', 'all', 9, 9, 9, 'exact', '', false, '', %(source)s, now(), now())",
        {"report": report.pk, "region": w["idlib"].pk, "period": period.pk, "source": report.source_id},
    )
    end = datetime.date(year, 6, 29)
    return lambda: sql("UPDATE casualties_reportingperiod SET date_end = %s WHERE id = %s", [end, period.pk])


def case_rename_an_actor(w):
    actor = ActorFactory()
    return lambda: sql("UPDATE casualties_actor SET name = name || ' (renamed)' WHERE id = %s", [actor.pk])


def case_rename_a_region(w):
    return lambda: sql("UPDATE casualties_region SET name = name || '.' WHERE id = %s", [w["saraqib"].pk])


def case_recode_a_district(w):
    # The cells of the district's own incidents move: bounded by that district's incidents, not by the table.
    district = RegionFactory(parent=w["idlib"])
    for _ in range(3):
        new_figures(w, new_incident(w, region=district))
    return lambda: sql("UPDATE casualties_region SET code = code || 'X' WHERE id = %s", [district.pk])


# A read known to scan the tallies whole, measured the same way, so the tests can be seen to fail.
CONTROL = "control"
CONTROL_SQL = "SELECT count(*) FROM casualties_casualtytally WHERE notes = 'x'"
CASES = {name.removeprefix("case_"): case for name, case in globals().items() if name.startswith("case_")}


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker) -> dict[str, list[dict]]:
    """Per case, what its write touched at 500 incidents and at 5,000; everything is rolled back after."""
    results: dict[str, list[dict]] = {name: [] for name in [*CASES, CONTROL]}
    with django_db_blocker.unblock(), transaction.atomic():
        sql("SET LOCAL ROLE NONE")  # as the owner: the loads below are measured, not the service's privileges
        syria = RegionFactory(code="SYR", name="Syria")
        idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
        district = RegionFactory(code="SY0700", name="Idlib district", parent=idlib)
        aleppo = RegionFactory(code="SY02", name="Aleppo", parent=syria)
        world = {
            "source": SourceFactory(),
            "actor": ActorFactory(),
            "type": IncidentTypeFactory(),
            "idlib": idlib,
            "saraqib": RegionFactory(code="SY070003", name="Saraqib", parent=district),
            "districts": [RegionFactory(code=f"SY02{n:02d}", parent=aleppo) for n in range(20)],
        }
        for year, size in ((2017, BASE_INCIDENTS), (2016, BASE_INCIDENTS * GROWTH)):
            world["year"] = year
            grow(world, size - sql("SELECT count(*) FROM casualties_incident")[0][0])
            for name, case in CASES.items():
                write = case(world)
                results[name].append(touched(write))
            results[CONTROL].append(touched(lambda: sql(CONTROL_SQL)))
        transaction.set_rollback(True)
    return results


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_write_touches_no_more_rows_when_the_tables_are_ten_times_larger(measured, case):
    # Plans on tables this small vary by a few rows either way; a read that grew with its table would add
    # thousands (the control below).
    small, large = measured[case]
    assert large, "the write touched nothing: the measurement is broken"
    grown = {
        table: (small.get(table, (0, 0))[1], rows)
        for table, (_, rows) in large.items()
        if table not in REFERENCE_TABLES and rows > 2 * small.get(table, (0, 0))[1] + 10
    }
    assert grown == {}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_write_never_reads_a_growing_table_whole(measured, case):
    _, large = measured[case]
    assert {t: scans for t, (scans, _) in large.items() if scans and t not in REFERENCE_TABLES} == {}


def test_the_measurement_sees_a_statement_that_reads_a_whole_table(measured):
    small, large = measured[CONTROL]
    assert small["casualties_casualtytally"][0] == large["casualties_casualtytally"][0] == 1
    assert large["casualties_casualtytally"][1] > 2 * GROWTH / 3 * small["casualties_casualtytally"][1] > 0
