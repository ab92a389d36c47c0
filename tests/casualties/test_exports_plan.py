"""Every export streams in the order of its table's primary key: PostgreSQL's plan has no sort and no step that
gathers the whole set before the first row, so the first row leaves at once whatever the size.

The plans are read with EXPLAIN under the export's own settings, on the statement each endpoint really sends.
"""

import json

import pgtrigger
import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

from casualties import exports
from casualties.models import Incident
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


CASES = [
    ("incidents.csv", {}, "casualties_incident", "i", False),
    ("incidents.csv", {"region": "SY07", "date_from": "2017-03-01", "q": "clash"}, "casualties_incident", "i", False),
    ("incidents.csv", {"status": ["verified", "draft"], "actor": "Ahrar al-Sham"}, "casualties_incident", "i", True),
    ("tallies.csv", {}, "casualties_casualtytally", "t", False),
    ("tallies.csv", {"source": "SOHR"}, "casualties_casualtytally", "t", True),
    ("period-totals.csv", {"region": "SY07"}, "casualties_casualtytally", "t", False),
]


@pytest.mark.parametrize(("name", "params", "table", "alias", "as_researcher"), CASES)
def test_an_export_walks_its_primary_key_without_sorting_or_gathering_the_set(
    api_client, monkeypatch, data, name, params, table, alias, as_researcher
):
    if as_researcher:
        researcher = UserFactory()
        researcher.groups.add(Group.objects.get(name=RESEARCHER))
        api_client.force_authenticate(researcher)
    copy_sql, copy_params = sent_statement(api_client, monkeypatch, f"/api/v1/exports/{name}", params)
    root = plan(copy_sql, copy_params)

    assert copy_sql.rstrip().endswith(f"ORDER BY {alias}.id) TO STDOUT WITH (FORMAT csv, HEADER false)")
    assert [n["Node Type"] for n in nodes(root) if n["Node Type"] in GATHERING] == []
    scan = driving_scan(root, table, alias)
    assert scan["Node Type"] in {"Index Scan", "Index Only Scan"}
    assert scan["Index Name"] == f"{table}_pkey"
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
