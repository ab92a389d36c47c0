"""The benchmarks compare like with like: the hand-written SQL counts what the service counts."""

import pytest
from django.db import connection

from benchmarks import cases
from benchmarks.harness import NOT_AVAILABLE, Result, format_table, ratio_result
from benchmarks.synthetic import synthetic_generate
from tests.benchmarks.test_synthetic import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


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
        # The first three are answered from the summary, also timed as hand-written SQL; by actor, from incidents.
        from_summary = result.details["summary_sql_ms"] is not None
        assert from_summary == ("actor" not in result.name)
        assert result.note.startswith("from the summary") == from_summary
        assert result.details["rows"] > 0
        assert result.service > 0
        assert result.raw > 0


def test_the_deep_page_is_reached_by_a_cursor_the_list_accepts(bench):
    first, deep = cases.lists(bench)
    assert first.note == ""
    assert deep.note == ""
    assert deep.basis == "first page"
    assert deep.details["depth"] == 0  # 200 incidents: fewer than two pages of the list
    assert "cursor=" in deep.details["path"]


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
