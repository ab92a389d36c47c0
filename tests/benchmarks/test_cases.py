"""The benchmarks compare like with like: the hand-written SQL counts what the service counts."""

import json
import re

import pytest
from django.db import connection

from benchmarks import cases, writes
from benchmarks.harness import NOT_AVAILABLE, Result, format_table, growth, ratio_result, write_json
from benchmarks.synthetic import synthetic_generate
from casualties.models import CasualtyTally, Incident
from tests.benchmarks.test_synthetic import world  # noqa: F401 (fixture)

# The synthetic loader switches the triggers off: an owner-only command (config/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_owner")]


@pytest.fixture
def bench(world) -> cases.Bench:  # noqa: F811
    synthetic_generate(incidents=200, seed=4)
    # The test's own session, so the raw side sees the rows of the test's transaction.
    bench = cases.Bench(repeat=1, raw=connection.connection)
    cases.pick_samples(bench)
    return bench


def test_every_aggregate_benchmark_gets_the_service_totals_from_its_hand_written_sql(bench):
    results = list(cases.aggregations(bench))
    assert [r.name for r in results] == [
        "aggregate month x admin1 in SYR",
        "aggregate year x country",
        "aggregate week x admin2 in SY07",
        "aggregate month x admin1 in SYR, one actor",
    ]
    for result in results:
        assert result.details["same_totals"] is True, result.note
        # The first three are answered from the summary and compared with the same summary query by hand; the
        # one by actor is answered from the incidents and compared with the hand-written incident query.
        from_summary = result.details["summary_sql_ms"] is not None
        assert from_summary == ("actor" not in result.name)
        assert result.note.startswith("from the summary") == from_summary
        if from_summary:
            assert result.raw == result.details["summary_sql_ms"]
            assert result.basis == "the same summary query by hand"
            assert result.baseline == cases.SUMMARY_BASELINE
        else:
            assert result.raw == result.details["incident_sql_ms"]
            assert result.baseline == cases.INCIDENT_BASELINE
        assert result.target == "<= 1.5x " + result.basis
        assert result.details["rows"] > 0
        assert result.service > 0
        assert result.raw > 0


def test_the_hand_written_aggregates_truncate_dates_as_timestamps_whatever_the_session_time_zone(bench):
    """date_trunc of a timestamptz moves a bucket with the session's time zone; of a timestamp, never."""
    sql = cases.raw_aggregate_sql("month", 0)
    summary = cases.raw_summary_sql("month", 0, "month")
    assert "i.date_start::timestamp" in sql
    assert "c.bucket::timestamp" in summary
    expected = bench.fetch(sql)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TimeZone = 'Pacific/Kiritimati'")
    assert bench.fetch(sql) == expected
    assert bench.fetch(summary)[-1][2:6] == expected[-1][2:6]


def test_the_deep_page_is_reached_by_a_cursor_the_list_accepts(bench):
    first, deep = cases.lists(bench)
    assert first.note == ""
    assert deep.note == ""
    assert deep.basis == "first page"
    assert deep.details["depth"] == 0  # 200 incidents: fewer than two pages of the list
    assert "cursor=" in deep.details["path"]


def test_the_admin_list_baseline_reads_the_rows_the_admin_shows_and_no_count(bench, client):
    assert "count(" not in cases.ADMIN_LIST_SQL.lower()
    rows = bench.fetch(cases.ADMIN_LIST_SQL)
    response = bench.admin.get("/admin/casualties/incident/")
    assert response.status_code == 200
    shown = [int(pk) for pk in re.findall(r'href="/admin/casualties/incident/(\d+)/change/', response.content.decode())]
    assert list(dict.fromkeys(shown)) == [row[0] for row in rows]
    (result,) = cases.admin_list(bench)
    assert result.baseline == cases.ADMIN_LIST_BASELINE
    assert result.raw > 0


def test_duplicate_hints_are_timed_beside_their_own_sql_finding_the_same_incidents(bench):
    (result,) = cases.duplicates(bench)
    assert result.note == "", result.note
    assert result.details["queries"] >= 1
    assert result.details["same_rows"] is True
    assert result.target == "< 100 ms"


def test_a_refused_aggregate_is_timed_only_when_it_is_refused(bench, monkeypatch):
    results = list(cases.refused_aggregate(bench))
    assert len(results) == 3
    assert results[0].note.startswith("not refused at this size")
    assert results[0].passed is None
    import dataclasses

    from casualties import aggregate_sql

    # The aggregate's options carry the row cap as a default; make it tiny so these small data exceed it.
    (options,) = [
        cls
        for cls in vars(aggregate_sql).values()
        if dataclasses.is_dataclass(cls) and "cap" in {f.name for f in dataclasses.fields(cls)}
    ]
    defaults = options.__init__.__defaults__
    monkeypatch.setattr(options.__init__, "__defaults__", (*defaults[:-1], 5))
    for result in cases.refused_aggregate(bench):
        assert result.note == "", result.note
        assert result.service > 0
        assert "rows" in result.details["answer"]


def test_a_missing_endpoint_is_reported_as_not_available(bench):
    result = cases._measured("nowhere", lambda: cases._aggregate(bench, "nowhere", "/api/v1/nowhere/", "SELECT 1", []))
    assert result.note == NOT_AVAILABLE
    assert result.status == NOT_AVAILABLE


def test_a_ratio_passes_under_its_limit_or_under_its_floor():
    assert ratio_result("a", service=140, raw=100, limit=1.5).passed is True
    assert ratio_result("b", service=160, raw=100, limit=1.5).passed is False
    assert ratio_result("c", service=40, raw=10, limit=1.5, floor_ms=50).passed is True
    table = format_table([ratio_result("b", service=160, raw=100, limit=1.5), Result("d", note=NOT_AVAILABLE)])
    assert "1.60x" in table
    assert "FAIL" in table
    assert NOT_AVAILABLE in table


# -- writes: the baseline's hand-written SQL leaves the rows the service leaves ------------------------------


@pytest.fixture
def scene(bench) -> writes.Scene:
    scene = writes.pick_scene(bench.raw)
    assert scene.figures
    assert scene.to_verify
    assert len(scene.report_ids) == 3
    return scene


def test_the_scene_is_the_busiest_district_and_month(bench, scene):
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
                WHERE i.status = 'verified' AND i.duplicate_of_id IS NULL AND r.path LIKE %s
                  AND date_trunc('month', i.date_start::timestamp) = %s""",
            [f"{scene.district_path}%", scene.month],
        )
        assert cursor.fetchone()[0] == scene.incidents_in_cell
        cursor.execute(
            """SELECT count(*) FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
                WHERE i.status = 'verified' AND i.duplicate_of_id IS NULL AND r.level >= 2
                GROUP BY split_part(r.path, '/', 3), date_trunc('month', i.date_start::timestamp)
                ORDER BY 1 DESC LIMIT 1"""
        )
        assert cursor.fetchone()[0] == scene.incidents_in_cell
    assert scene.day.replace(day=1) == scene.month


def test_a_new_incident_by_hand_is_the_one_the_service_and_the_admin_write(bench, scene):
    by_service = writes.service_new_incident(scene, "[benchmark] new")
    by_admin = writes.admin_new_incident(scene, "[benchmark] new")
    (by_hand,), _ = writes.run_statements(bench.raw, writes.baseline_new_incident(scene, "[benchmark] new"))
    expected = writes.described(bench.raw, by_service)
    assert len(expected["tallies"]) == 3
    assert len(expected["estimates"]) == 3
    assert writes.described(bench.raw, by_hand) == expected
    assert writes.described(bench.raw, by_admin) == expected


def _version(incident_id: int) -> int:
    return Incident.objects.values_list("version", flat=True).get(pk=incident_id)


def test_a_figure_edited_by_hand_is_the_edit_the_service_the_admin_and_the_api_make(bench, scene):
    tally_id, incident_id = scene.figures[0]
    flip = writes.Flip(bench.raw, tally_id)
    up = (flip.best + 1, flip.high + 1)
    described = []
    for write in (
        lambda: writes.service_edit_figure(scene, tally_id, *up),
        lambda: writes.api_edit_figure(scene, tally_id, *up),
        lambda: writes.run_statements(bench.raw, writes.baseline_edit_figure(scene, incident_id, tally_id, *up)),
    ):
        before = _version(incident_id)
        write()
        assert _version(incident_id) == before + 1  # once per write
        described.append(writes.described(bench.raw, incident_id))
        flip.restore()
    assert described[0] != writes.described(bench.raw, incident_id)
    assert described[1] == described[0]
    assert described[2] == described[0]
    assert described[0]["incident"][0][-4] == scene.user.pk  # the editor is recorded on the incident
    # The admin also writes its log entry; its baseline does the same.
    admin = []
    for write in (
        lambda: writes.admin_edit_figure(scene, incident_id, tally_id, *up),
        lambda: writes.run_statements(bench.raw, writes.baseline_admin_edit_figure(scene, incident_id, tally_id, *up)),
    ):
        before = _version(incident_id)
        write()
        assert _version(incident_id) == before + 1
        admin.append(writes.described(bench.raw, incident_id))
        flip.restore()
    assert admin[0] == admin[1]
    assert admin[0]["tallies"] == described[0]["tallies"]


def test_an_incident_verified_by_hand_is_the_one_the_service_the_admin_and_the_api_verify(bench, scene):
    target = scene.to_verify
    described = []
    for write in (
        lambda: writes.service_verify(scene, target),
        lambda: writes.admin_verify(scene, target),
        lambda: writes.api_verify(scene, target),
        lambda: writes.run_statements(bench.raw, writes.baseline_verify(scene, target)),
    ):
        writes.run_statements(bench.raw, writes.reset_to_submitted(target))
        before = _version(target)
        write()
        assert _version(target) == before + 1
        described.append(writes.described(bench.raw, target))
    assert described[0]["incident"][0][11] == "verified"
    assert all(d == described[0] for d in described)


def test_a_merge_by_hand_leaves_the_rows_the_service_and_the_admin_leave(bench, scene):
    results = []
    for merge in (writes.service_merge, writes.admin_merge, None):
        duplicate, into = writes.make_pair(bench.raw, scene, "[benchmark] merge")
        if merge is None:
            writes.run_statements(bench.raw, writes.baseline_merge(scene, duplicate, into))
        else:
            merge(scene, duplicate, into)
        results.append((writes.described(bench.raw, duplicate), writes.described(bench.raw, into)))
    duplicate, into = results[0]
    assert duplicate["tallies"] == []
    assert duplicate["incident"][0][-1] is True
    assert len(into["tallies"]) == 3
    assert len(into["actors"]) == 1
    assert results[1] == results[0]
    assert results[2] == results[0]


def test_the_write_cases_say_what_their_baseline_does_and_leave_nothing_behind(bench, scene):
    flips = {}
    for case in writes.write_cases(bench.raw, scene, flips):
        assert case.baseline_says
        assert "\n" not in case.baseline_says
        result = writes.write_result(case, repeat=1)
        assert result.baseline == case.baseline_says
        assert result.service > 0
        assert result.raw > 0
        assert result.ratio == result.service / result.raw
    for flip in flips.values():
        flip.restore()
    assert writes.delete_benchmark_rows(bench.raw) > 0
    assert not Incident.objects.filter(title__startswith=writes.TITLE).exists()
    tally_id, _ = scene.figures[0]
    assert CasualtyTally.objects.values_list("best", flat=True).get(pk=tally_id) == flips[tally_id].best


def test_a_run_is_written_as_json_and_markdown_and_two_runs_as_a_growth_table(tmp_path):
    result = ratio_result("write: x", service=30, raw=10, limit=3)
    result.baseline = "UPDATE the figure."
    context = {"incidents": 100, "database": "db", "load_before": {"load_1m": 1.5, "uptime": "up 1 day"}}
    write_json(tmp_path / "small.json", results=[result], context=context)
    assert "| write: x | 30.0 ms | 10.0 ms | 3.00x |" in (tmp_path / "small.md").read_text()
    assert "UPDATE the figure." in (tmp_path / "small.md").read_text()
    small = json.loads((tmp_path / "small.json").read_text())
    large = json.loads(json.dumps(small))
    large["results"][0]["service"] = 45.0
    table = growth(small, large)
    assert table["rows"][0]["growth"] == 1.5
    assert table["rows"][0]["growth_passed"] is True  # a write may grow 1.5x for the larger data, no more
    large["results"][0]["service"] = 45.1
    assert growth(small, large)["rows"][0]["growth_passed"] is False


def test_every_read_case_says_in_one_line_what_its_baseline_does(bench):
    results = [
        *cases.aggregations(bench),
        *cases.lists(bench),
        *cases.detail(bench),
        *cases.admin_list(bench),
        *cases.duplicates(bench),
    ]
    for result in results:
        assert result.baseline, result.name
        assert "\n" not in result.baseline
