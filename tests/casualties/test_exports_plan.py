"""Every export streams in id order, walking its table's primary key or an index of just the rows it exports:
PostgreSQL's plan has no sort and no step that gathers the whole set before the first row, so the first row leaves
at once whatever the size.

The plans are read with EXPLAIN under the export's own settings, on the statement each endpoint really sends.
"""

import json

import pgtrigger
import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

from casualties import exports
from casualties.models import CasualtyTally, Incident
from casualties.roles import RESEARCHER
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportingPeriodFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Plan nodes that hold back every row until the set is complete (a Sort would be one: the statement has an ORDER
# BY, so a plan without one returns its rows in the order of the index it walks).
GATHERING = {"Sort", "Incremental Sort", "HashAggregate", "SetOp", "WindowAgg"}


@pytest.fixture
def data():
    """2,000 incidents with statistics, some figures and period totals."""
    idlib = RegionFactory(code="SY07", name="Idlib", parent=RegionFactory(code="SYR", name="Syria"))
    clash = IncidentTypeFactory()
    with pgtrigger.ignore("casualties.Incident:insert_insert"), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO casualties_incident
              (public_id, title, description, date_start, date_end, date_precision, region_id, place_name,
               location_precision, incident_type_id, status, external_id, version, created_at, updated_at)
            SELECT gen_random_uuid(), 'Clash ' || g, '', DATE '2017-01-01' + g %% 365, DATE '2017-01-01' + g %% 365,
                   'day', %s, '', 'admin1', %s, CASE WHEN g %% 5 = 0 THEN 'draft' ELSE 'verified' END, '', 1,
                   now(), now()
              FROM generate_series(1, 2000) AS g
            """,
            [idlib.pk, clash.pk],
        )
    some = list(Incident.objects.order_by("pk")[:20])
    for incident in some:
        TallyFactory(incident=incident, report__source__acronym="SOHR")
    IncidentActorFactory(incident=some[0], actor=ActorFactory(name="Ahrar al-Sham"), role="side_a")
    TallyFactory(incident=None, region=idlib, reporting_period=ReportingPeriodFactory(), report__source__acronym="SNHR")
    with connection.cursor() as cursor:
        for table in ("casualties_incident", "casualties_casualtytally", "casualties_incidentactor"):
            cursor.execute(f"ANALYZE {table}")
    return {"idlib": idlib}


@pytest.fixture
def incident_figures(data):
    """A figure for each incident: the period total becomes one figure in 2,000."""
    first = CasualtyTally.objects.filter(incident__isnull=False).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO casualties_casualtytally
              (outcome, status, casualty_group, low, best, high, qualifier, reported_phrase, is_preferred, notes,
               created_at, updated_at, report_id, source_id, incident_id)
            SELECT t.outcome, t.status, t.casualty_group, t.low, t.best, t.high, t.qualifier, '', false, '', now(),
                   now(), t.report_id, t.source_id, i.id
              FROM casualties_casualtytally t, casualties_incident i
             WHERE t.id = %s AND NOT EXISTS (SELECT 1 FROM casualties_casualtytally x WHERE x.incident_id = i.id)
            """,
            [first.pk],
        )
        cursor.execute("ANALYZE casualties_casualtytally")


def sent_statement(client, monkeypatch, url: str, params: dict) -> tuple[str, tuple]:
    """The COPY statement the endpoint runs for ``params``."""
    sent = []
    original = exports.export_copy_sql

    def recording(export, queryset):
        sent.append(original(export, queryset))
        return sent[-1]

    monkeypatch.setattr(exports, "export_copy_sql", recording)
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    b"".join(response.streaming_content)
    [(copy_sql, copy_params)] = sent
    return copy_sql, copy_params


def plan(copy_sql: str, params: tuple) -> dict:
    """The plan of the COPY's SELECT under the export's settings."""
    select = copy_sql.removeprefix("COPY (").rsplit(") TO STDOUT", 1)[0]
    with transaction.atomic(), connection.cursor() as cursor:
        exports.apply_export_session(cursor)
        cursor.execute(f"EXPLAIN (FORMAT JSON) {select}", params)
        explained = cursor.fetchone()[0]
        transaction.set_rollback(True)  # the settings end with the savepoint, as they end with an export
    return (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]


def nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def driving_scan(root: dict, table: str, alias: str) -> dict:
    [scan] = [n for n in nodes(root) if n.get("Relation Name") == table and n.get("Alias") == alias]
    return scan


# The index each export walks in id order: the primary key, or for period totals the partial index of the period
# totals alone (walking the primary key would pass every incident figure to find them).
CASES = [
    ("incidents.csv", {}, "casualties_incident", "i", False, "casualties_incident_pkey"),
    ("incidents.csv", {"region": "SY07", "date_from": "2017-03-01", "q": "clash"}, "casualties_incident", "i", False,
     "casualties_incident_pkey"),
    ("incidents.csv", {"status": ["verified", "draft"], "actor": "Ahrar al-Sham"}, "casualties_incident", "i", True,
     "casualties_incident_pkey"),
    ("tallies.csv", {}, "casualties_casualtytally", "t", False, "casualties_casualtytally_pkey"),
    ("tallies.csv", {"source": "SOHR"}, "casualties_casualtytally", "t", True, "casualties_casualtytally_pkey"),
    ("period-totals.csv", {}, "casualties_casualtytally", "t", False, "casualties_tally_total_id"),
    ("period-totals.csv", {"region": "SY07"}, "casualties_casualtytally", "t", False, "casualties_tally_total_id"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params", "table", "alias", "as_researcher", "index"), CASES)
def test_an_export_walks_its_rows_in_id_order_without_sorting_or_gathering_the_set(
    request, api_client, monkeypatch, data, name, params, table, alias, as_researcher, index
):
    if name == "period-totals.csv":
        request.getfixturevalue("incident_figures")  # few period totals among many figures, as in a real database
    if as_researcher:
        researcher = UserFactory()
        researcher.groups.add(Group.objects.get(name=RESEARCHER))
        api_client.force_authenticate(researcher)
    copy_sql, copy_params = sent_statement(api_client, monkeypatch, f"/api/v1/exports/{name}", params)
    root = plan(copy_sql, copy_params)

    assert copy_sql.rstrip().endswith(f"ORDER BY {alias}.id) TO STDOUT WITH (FORMAT csv, HEADER false)")
    assert [n["Node Type"] for n in nodes(root) if n["Node Type"] in GATHERING] == []
    # The rows' own scan, which the derived table of the filtered rows was pulled up into: the table is read once
    # for the rows and their filters.
    scan = driving_scan(root, table, table)
    assert [n for n in nodes(root) if n.get("Relation Name") == table and n.get("Alias") == alias] == []
    assert scan["Node Type"] in {"Index Scan", "Index Only Scan"}
    assert scan["Index Name"] == index
    assert scan["Scan Direction"] == "Forward"


def test_the_export_settings_end_with_the_export_transaction():
    with transaction.atomic(), connection.cursor() as cursor:
        exports.apply_export_session(cursor)
        cursor.execute("SELECT current_setting('enable_sort'), current_setting('jit'), current_setting('TimeZone')")
        assert cursor.fetchone() == ("off", "off", "UTC")
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_sort')")
        assert cursor.fetchone()[0] == "on"
