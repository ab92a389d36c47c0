"""The possible-duplicates query reads a bounded set of incidents, whatever the size of the table.

Its plan, run (EXPLAIN ANALYZE) on a table whose busiest days hold more incidents than the candidates scored:
no statement reads the incidents whole, and the incident rows its scans yield do not grow when the table does.
"""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casualties.duplicates import OTHER_CANDIDATES, SAME_AREA_CANDIDATES, incident_possible_duplicates
from tests.factories import IncidentFactory, IncidentTypeFactory, RegionFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2017, 7, 20)


def add_incidents(*, region, incident_type, in_window: int, before: int) -> None:
    """``in_window`` verified incidents in ``region`` within a day of DAY (one in ten of them spanning its whole
    month), and ``before`` more over the five years before it. Loaded with triggers off, as the synthetic loader
    does (so by the owner: the tests ask for database_owner): only the incident rows matter to the query."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "INSERT INTO casualties_incident (public_id, title, description, date_start, date_end, date_precision, "
            "region_id, place_name, location_precision, incident_type_id, status, external_id, version, created_at, "
            "updated_at) SELECT gen_random_uuid(), 'Shelling ' || n, '', d, "
            "CASE WHEN n <= %(window)s AND n %% 10 = 0 THEN date '2017-07-31' ELSE d END, 'day', %(region)s, '', "
            "'admin2', %(type)s, 'verified', '', 1, now(), now() FROM generate_series(1, %(count)s) n, "
            "LATERAL (SELECT CASE WHEN n > %(window)s THEN date '2012-01-01' + n %% 1800 "
            "WHEN n %% 10 = 0 THEN date '2017-07-01' ELSE %(day)s + n %% 3 - 1 END AS d) x",
            {"region": region.pk, "type": incident_type.pk, "window": in_window, "count": in_window + before,
             "day": DAY},
        )  # fmt: skip
        cursor.execute("SET LOCAL session_replication_role = origin")
        # Statistics from every row rather than a random sample, so that the plan measured is the same every run.
        cursor.execute("SET LOCAL default_statistics_target = 1000")
        cursor.execute("ANALYZE casualties_incident")
        cursor.execute("RESET default_statistics_target")


def incident_scans(plan: dict) -> list[dict]:
    found = [plan] if plan.get("Relation Name") == "casualties_incident" else []
    for child in plan.get("Plans", []):
        found.extend(incident_scans(child))
    return found


def explained(incident) -> tuple[list[str], int]:
    """The kinds of scan of casualties_incident in the executed plans of the duplicates queries, and the incident
    rows they examined (returned or filtered out)."""
    with CaptureQueriesContext(connection) as queries:
        incident_possible_duplicates(incident=incident, limit=10)
    scans = []
    for query in queries.captured_queries:
        if "casualties_incident" not in query["sql"] or query["sql"].startswith(("SAVEPOINT", "RELEASE")):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {query['sql']}")
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        scans.extend(incident_scans(plan[0]["Plan"]))
    examined = sum((s["Actual Rows"] + s.get("Rows Removed by Filter", 0)) * s["Actual Loops"] for s in scans)
    return [s["Node Type"] for s in scans], examined


@pytest.fixture
def setting():
    district = RegionFactory(code="SY0700", parent=RegionFactory(code="SY07", parent=RegionFactory(code="SYR")))
    incident_type = IncidentTypeFactory()
    incident = IncidentFactory(region=district, date_start=DAY, incident_type=incident_type)
    return {"region": district, "incident_type": incident_type, "incident": incident}


def test_the_duplicates_query_examines_as_many_incidents_when_the_table_is_ten_times_larger(setting, database_owner):
    # A busy window (more incidents than are scored), and ten times more history around it.
    add_incidents(region=setting["region"], incident_type=setting["incident_type"], in_window=600, before=4_400)
    _, small = explained(setting["incident"])
    add_incidents(region=setting["region"], incident_type=setting["incident_type"], in_window=0, before=45_000)
    large_scans, large = explained(setting["incident"])

    assert "Seq Scan" not in large_scans
    assert large <= small <= 2 * (SAME_AREA_CANDIDATES + OTHER_CANDIDATES)


def test_the_duplicates_query_without_its_bounds_examines_every_incident_of_a_busy_window(
    setting, monkeypatch, database_owner
):
    # The same measurement sees the candidates grow when the bounds are lifted, so the test above can fail.
    monkeypatch.setattr("casualties.duplicates.SAME_AREA_CANDIDATES", 1_000_000)
    monkeypatch.setattr("casualties.duplicates.OTHER_CANDIDATES", 1_000_000)
    add_incidents(region=setting["region"], incident_type=setting["incident_type"], in_window=600, before=0)
    _, small = explained(setting["incident"])
    add_incidents(region=setting["region"], incident_type=setting["incident_type"], in_window=5_400, before=0)
    _, large = explained(setting["incident"])
    assert large > 5 * small


def test_no_incident_index_holds_the_region_behind_another_column():
    """A probe by region alone (the admin's country filter) must not be offered an index where the region comes
    second: PostgreSQL took the span index, when it held (dates, region), and searched all of it for each region
    without incidents, about a second at 1M incidents. The duplicate search needs the span index for dates only."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, k.ord
              FROM pg_index x
              JOIN pg_class i ON i.oid = x.indexrelid
             CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k (attnum, ord)
              JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             WHERE x.indrelid = 'casualties_incident'::regclass AND a.attname = 'region_id' AND k.ord > 1
            """
        )
        assert cursor.fetchall() == []
