"""The aggregation selectors: each counting rule of docs/aggregation.md on a tiny hand-checked dataset."""

import datetime

import psycopg
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casualties import aggregate_sql
from casualties.choices import ReviewStatus
from casualties.models import Incident
from casualties.selectors import (
    AggregateOptions,
    AggregateTimedOut,
    AggregateTooLarge,
    aggregate_incidents,
    casualty_aggregate,
    incident_basis_aggregate,
    period_totals,
    reported_totals_aggregate,
    summary_aggregate,
)
from tests.factories import (
    IncidentFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)
from tests.queries import data_queries

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def idlib(idlib_places):
    return idlib_places


def counted():
    return aggregate_incidents(user=AnonymousUser(), statuses_requested=False)


def figures(rows):
    return [
        (r["period_start"], r["region_code"], r["region_level"], r["incidents"], r["low"], r["best"], r["high"])
        for r in rows
    ]


def test_aggregate_counts_each_incident_once_across_sources(idlib):
    incident = IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, 19))
    TallyFactory(incident=incident, report=ReportFactory(published_on=D(2017, 7, 20)), low=30, best=40, high=45)
    TallyFactory(incident=incident, report=ReportFactory(published_on=D(2017, 7, 21)), low=35, best=38, high=50)

    result = casualty_aggregate(
        incidents=counted(),
        options=AggregateOptions(interval="month", region_level=1, casualty_status="civilian", group="all"),
    )

    assert result.results == [
        {
            "period_start": D(2017, 7, 1),
            "period_end": D(2017, 7, 31),
            "region_code": "SY07",
            "region_name": "Idlib",
            "region_level": 1,
            "incidents": 1,
            "incidents_with_figures": 1,
            "low": 30,
            "best": 38,
            "high": 50,
        }
    ]
    assert result.totals == {"incidents": 1, "incidents_with_figures": 1, "low": 30, "best": 38, "high": 50}


def test_an_incident_located_more_coarsely_than_the_level_gets_a_row_at_its_own_level(idlib):
    TallyFactory(incident=IncidentFactory(region=idlib["saraqib"]), best=5)
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"]), best=7)
    TallyFactory(incident=IncidentFactory(region=idlib["syria"]), best=11)

    result = casualty_aggregate(incidents=counted(), options=AggregateOptions(interval=None, region_level=2))

    assert figures(result.results) == [
        (None, "SYR", 0, 1, 11, 11, 11),
        (None, "SY07", 1, 1, 7, 7, 7),
        (None, "SY0700", 2, 1, 5, 5, 5),
    ]
    assert result.totals["best"] == 23


def test_an_incident_without_a_figure_counts_as_an_incident_but_its_casualties_stay_unknown(idlib):
    IncidentFactory(region=idlib["aleppo"])
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"]), best=4)
    IncidentFactory(region=idlib["idlib"])

    result = casualty_aggregate(incidents=counted(), options=AggregateOptions(interval=None, region_level=1))

    assert [(r["region_code"], r["incidents"], r["incidents_with_figures"], r["best"]) for r in result.results] == [
        ("SY02", 1, 0, None),
        ("SY07", 2, 1, 4),
    ]
    assert result.totals == {"incidents": 3, "incidents_with_figures": 1, "low": 4, "best": 4, "high": 4}


def test_of_which_groups_are_never_added_to_all(idlib):
    incident = IncidentFactory(region=idlib["idlib"])
    report = ReportFactory()
    TallyFactory(incident=incident, report=report, best=10)
    TallyFactory(incident=incident, report=report, group="children", best=3)

    assert (
        casualty_aggregate(incidents=counted(), options=AggregateOptions(interval=None, region_level=None)).totals[
            "best"
        ]
        == 10
    )
    children = casualty_aggregate(
        incidents=counted(), options=AggregateOptions(interval=None, region_level=None, group="children")
    )
    assert children.totals["best"] == 3


def test_statuses_are_summed_only_when_all_statuses_are_asked_for(idlib):
    incident = IncidentFactory(region=idlib["idlib"])
    report = ReportFactory()
    TallyFactory(incident=incident, report=report, status="civilian", best=10)
    TallyFactory(incident=incident, report=report, status="combatant", best=20)
    TallyFactory(incident=incident, report=report, status="unknown", best=40)
    TallyFactory(incident=incident, report=report, status="civilian", outcome="injured", best=80)

    def best(status):
        return casualty_aggregate(
            incidents=counted(), options=AggregateOptions(interval=None, region_level=None, casualty_status=status)
        ).totals["best"]

    assert (best("civilian"), best("combatant"), best("unknown"), best("all")) == (10, 20, 40, 70)


def test_only_verified_incidents_that_are_not_duplicates_count_by_default(idlib):
    kept = IncidentFactory(region=idlib["idlib"])
    TallyFactory(incident=kept, best=1)
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"], status=ReviewStatus.DRAFT), best=10)
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"], duplicate_of=kept), best=100)

    assert (
        casualty_aggregate(incidents=counted(), options=AggregateOptions(interval=None, region_level=None)).totals[
            "best"
        ]
        == 1
    )
    anonymous_drafts = aggregate_incidents(user=AnonymousUser(), statuses_requested=True).filter(status="draft")
    assert (
        casualty_aggregate(
            incidents=anonymous_drafts, options=AggregateOptions(interval=None, region_level=None)
        ).totals["incidents"]
        == 0
    )


def test_weeks_are_iso_weeks_from_monday_and_periods_end_on_their_last_day(idlib):
    # 2017-07-16 is a Sunday, 2017-07-17 a Monday.
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"], date_start=D(2017, 7, 16)), best=1)
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"], date_start=D(2017, 7, 17)), best=2)

    weeks = casualty_aggregate(
        incidents=counted(), options=AggregateOptions(interval="week", region_level=None)
    ).results
    assert [(r["period_start"], r["period_end"], r["best"]) for r in weeks] == [
        (D(2017, 7, 10), D(2017, 7, 16), 1),
        (D(2017, 7, 17), D(2017, 7, 23), 2),
    ]
    quarters = casualty_aggregate(
        incidents=counted(), options=AggregateOptions(interval="quarter", region_level=None)
    ).results
    assert [(r["period_start"], r["period_end"], r["best"]) for r in quarters] == [(D(2017, 7, 1), D(2017, 9, 30), 3)]


def test_fill_adds_a_row_without_incidents_or_figures_for_every_empty_bucket_and_region_present(idlib):
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"], date_start=D(2017, 6, 3)), best=2)
    TallyFactory(incident=IncidentFactory(region=idlib["aleppo"], date_start=D(2017, 8, 9)), best=5)

    result = casualty_aggregate(
        incidents=counted(),
        options=AggregateOptions(interval="month", region_level=1, fill=(D(2017, 6, 1), D(2017, 8, 31))),
    )

    assert figures(result.results) == [
        (D(2017, 6, 1), "SY02", 1, 0, None, None, None),
        (D(2017, 6, 1), "SY07", 1, 1, 2, 2, 2),
        (D(2017, 7, 1), "SY02", 1, 0, None, None, None),
        (D(2017, 7, 1), "SY07", 1, 0, None, None, None),
        (D(2017, 8, 1), "SY02", 1, 1, 5, 5, 5),
        (D(2017, 8, 1), "SY07", 1, 0, None, None, None),
    ]
    assert result.totals == {"incidents": 2, "incidents_with_figures": 2, "low": 7, "best": 7, "high": 7}


def test_no_incidents_gives_no_rows_and_empty_totals(idlib):
    result = casualty_aggregate(
        incidents=Incident.objects.none(), options=AggregateOptions(interval="month", region_level=1)
    )
    assert result.results == []
    assert result.totals == {"incidents": 0, "incidents_with_figures": 0, "low": None, "best": None, "high": None}


def test_a_period_total_spanning_buckets_is_split_by_days_with_the_whole_preserved(idlib):
    sohr = SourceFactory(acronym="SOHR")
    # 29 June to 2 July: 2 days in June, 2 in July. 7 * 2/4 = 3.5 each: the remainder tie goes to June.
    period = ReportingPeriodFactory(date_start=D(2017, 6, 29), date_end=D(2017, 7, 2))
    TallyFactory(
        incident=None,
        region=idlib["saraqib"],
        reporting_period=period,
        report=ReportFactory(source=sohr),
        low=5,
        best=7,
        high=10,
        status="unknown",
    )

    result = reported_totals_aggregate(
        totals=period_totals(source=sohr),
        options=AggregateOptions(interval="month", region_level=1, casualty_status="unknown"),
    )

    assert [(r["period_start"], r["region_code"], r["low"], r["best"], r["high"]) for r in result.results] == [
        (D(2017, 6, 1), "SY07", 3, 4, 5),
        (D(2017, 7, 1), "SY07", 2, 3, 5),
    ]
    assert result.totals == {"incidents": None, "incidents_with_figures": None, "low": 5, "best": 7, "high": 10}


def test_largest_remainder_gives_the_leftover_to_the_biggest_share(idlib):
    sohr = SourceFactory()
    period = ReportingPeriodFactory(date_start=D(2017, 7, 9), date_end=D(2017, 7, 17))  # Sun .. Mon: 1 + 7 + 1
    TallyFactory(
        incident=None, region=idlib["idlib"], reporting_period=period, report=ReportFactory(source=sohr), best=10
    )

    result = reported_totals_aggregate(
        totals=period_totals(source=sohr), options=AggregateOptions(interval="week", region_level=None)
    )

    # 10 * 1/9 = 1.11, 10 * 7/9 = 7.78, 10 * 1/9 = 1.11: floors 1 + 7 + 1 = 9, the leftover goes to 7.78.
    assert [(r["period_start"], r["best"]) for r in result.results] == [
        (D(2017, 7, 3), 1),
        (D(2017, 7, 10), 8),
        (D(2017, 7, 17), 1),
    ]


def test_reported_totals_are_one_sources_and_filtered_by_region_and_period_overlap(idlib):
    sohr, snhr = SourceFactory(), SourceFactory()
    july = ReportingPeriodFactory(date_start=D(2017, 7, 1), date_end=D(2017, 7, 31))
    june = ReportingPeriodFactory(date_start=D(2017, 6, 1), date_end=D(2017, 6, 30))
    for region, period, source, best in [
        (idlib["idlib"], july, sohr, 40),
        (idlib["aleppo"], july, sohr, 9),
        (idlib["idlib"], june, sohr, 12),
        (idlib["idlib"], july, snhr, 1000),
    ]:
        TallyFactory(
            incident=None, region=region, reporting_period=period, report=ReportFactory(source=source), best=best
        )

    totals = period_totals(source=sohr, within=[idlib["idlib"]], date_from=D(2017, 7, 1), date_to=D(2017, 7, 31))
    result = reported_totals_aggregate(totals=totals, options=AggregateOptions(interval=None, region_level=1))

    assert figures(result.results) == [(None, "SY07", 1, None, 40, 40, 40)]


def test_fill_on_reported_totals_leaves_uncovered_buckets_unknown(idlib):
    sohr = SourceFactory()
    period = ReportingPeriodFactory(date_start=D(2017, 7, 1), date_end=D(2017, 7, 31))
    TallyFactory(
        incident=None, region=idlib["idlib"], reporting_period=period, report=ReportFactory(source=sohr), best=40
    )

    result = reported_totals_aggregate(
        totals=period_totals(source=sohr),
        options=AggregateOptions(interval="month", region_level=None, fill=(D(2017, 6, 1), D(2017, 7, 31))),
    )

    assert [(r["period_start"], r["best"]) for r in result.results] == [(D(2017, 6, 1), None), (D(2017, 7, 1), 40)]


def test_a_request_over_the_cap_is_refused_with_the_number_of_rows_it_would_return(idlib):
    IncidentFactory(region=idlib["idlib"], date_start=D(2017, 1, 1))
    IncidentFactory(region=idlib["aleppo"], date_start=D(2017, 12, 31))
    # Without fill, the rows are the buckets x regions that have incidents: 2, not the 365 x 2 of the grid.
    assert len(casualty_aggregate(incidents=counted(), options=AggregateOptions("day", 1, cap=2)).results) == 2
    with pytest.raises(AggregateTooLarge) as refused:
        casualty_aggregate(incidents=counted(), options=AggregateOptions("day", 1, cap=1))
    assert refused.value.estimated_rows == 2
    assert "about 2 rows (cap 1)" in str(refused.value)

    # With fill, every day of the range for each region present.
    year = (D(2017, 1, 1), D(2017, 12, 31))
    with pytest.raises(AggregateTooLarge) as refused:
        casualty_aggregate(incidents=counted(), options=AggregateOptions("day", 1, fill=year, cap=729))
    assert refused.value.estimated_rows == 365 * 2
    filled = casualty_aggregate(incidents=counted(), options=AggregateOptions("day", 1, fill=year, cap=730))
    assert len(filled.results) == 730


def aggregate_statements(context) -> list[str]:
    return [sql for sql in data_queries(context) if "casualties_estimate" in sql or "GROUPING SETS" in sql]


def test_a_request_whose_summary_cells_exceed_the_cap_is_refused_before_any_row_is_grouped(idlib):
    for day in range(1, 5):  # four days in one district: four day cells
        IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, day))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casualties_summarycell")  # as autovacuum would: the planner's estimate is 4 cells

    with CaptureQueriesContext(connection) as context, pytest.raises(AggregateTooLarge) as refused:
        incident_basis_aggregate(
            incidents=counted(),
            filters_given={"region"},
            within=[idlib["idlib"]],
            options=AggregateOptions("day", 2, cap=3),
        )

    assert "would return more than 3 rows" in str(refused.value)
    assert aggregate_statements(context) == []
    assert any("casualties_summarycell" in sql for sql in data_queries(context))
    # The same request at sub-district level (read from the incidents) is refused by the same cells, before the work.
    with CaptureQueriesContext(connection) as context, pytest.raises(AggregateTooLarge):
        incident_basis_aggregate(
            incidents=counted(),
            filters_given={"region"},
            within=[idlib["idlib"]],
            options=AggregateOptions("day", 3, cap=3),
        )
    assert aggregate_statements(context) == []
    assert (
        len(
            incident_basis_aggregate(
                incidents=counted(),
                filters_given={"region"},
                within=[idlib["idlib"]],
                options=AggregateOptions("day", 2, cap=4),
            ).results
        )
        == 4
    )


def _refused_before_the_work(**kwargs) -> tuple[AggregateTooLarge, list[str]]:
    with CaptureQueriesContext(connection) as context, pytest.raises(AggregateTooLarge) as refused:
        incident_basis_aggregate(**kwargs)
    assert aggregate_statements(context) == []
    return refused.value, data_queries(context)


def test_a_status_filter_that_keeps_the_public_set_is_refused_by_the_summary_cells(idlib):
    for day in range(1, 5):  # four verified days in one district: four day cells, each one row or more
        IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, day))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casualties_summarycell")
    incidents = Incident.objects.filter(status__in=["verified", "submitted"], duplicate_of__isnull=True)

    refused, queries = _refused_before_the_work(
        incidents=incidents,
        filters_given={"region", "status"},
        statuses=["verified", "submitted"],
        within=[idlib["idlib"]],
        options=AggregateOptions("day", 3, cap=3),
    )

    assert "more than 3 rows" in str(refused) or "about 4 rows" in str(refused)
    assert any("casualties_summarycell" in sql for sql in queries)


def test_a_status_filter_without_the_public_set_is_not_bounded_by_its_cells(idlib):
    for day in range(1, 5):  # four verified day cells: more than the cap, but not what is asked for
        IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, day))
    IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, 9), status=ReviewStatus.SUBMITTED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casualties_summarycell")

    result = incident_basis_aggregate(
        incidents=Incident.objects.filter(status__in=["submitted"], duplicate_of__isnull=True),
        filters_given={"region", "status"},
        statuses=["submitted"],
        within=[idlib["idlib"]],
        options=AggregateOptions("day", 3, cap=3),
    )

    assert [(r["period_start"], r["region_code"], r["incidents"]) for r in result.results] == [
        (D(2017, 7, 9), idlib["saraqib"].code, 1)
    ]


def test_more_row_groups_than_the_cap_among_the_filtered_incidents_refuse_before_the_aggregate(idlib):
    """An actor filter has no summary cells: the row groups of the first 1.5 x cap incidents are each a row."""
    for day in range(1, 6):
        IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, day))
    same_day = Incident.objects.filter(date_start=D(2017, 7, 1))
    for _ in range(5):
        IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, 1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casualties_incident, casualties_region")  # as autovacuum would

    refused, queries = _refused_before_the_work(
        incidents=counted(), filters_given={"actor"}, within=[idlib["idlib"]], options=AggregateOptions("day", 3, cap=3)
    )
    assert "more than 3 rows" in str(refused)
    assert not any("casualties_summarycell" in sql for sql in queries)
    # Six incidents of one day and place are one group however many are read: answered, one row.
    result = incident_basis_aggregate(
        incidents=same_day, filters_given={"actor"}, within=[idlib["idlib"]], options=AggregateOptions("day", 3, cap=3)
    )
    assert [(r["period_start"], r["incidents"]) for r in result.results] == [(D(2017, 7, 1), 6)]


def test_a_sparse_request_whose_grid_exceeds_the_cap_is_answered(idlib):
    """Two incidents ten years apart, by day and governorate: a grid of 7,306 x 3 rows, an answer of two."""
    IncidentFactory(region=idlib["idlib"], date_start=D(2007, 7, 1))
    IncidentFactory(region=idlib["aleppo"], date_start=D(2017, 7, 1))

    result = incident_basis_aggregate(
        incidents=counted(),
        filters_given={"country"},
        within=[idlib["syria"]],
        options=AggregateOptions("day", 1, cap=100),
    )

    assert [(r["period_start"], r["region_code"]) for r in result.results] == [
        (D(2007, 7, 1), "SY07"),
        (D(2017, 7, 1), "SY02"),
    ]


def test_the_summary_cells_answer_only_place_and_date_filters_at_admin2_or_coarser(idlib):
    def reads_cells(filters_given, within=(), level=1) -> bool:
        options = AggregateOptions("month", level)
        with CaptureQueriesContext(connection) as context:
            incident_basis_aggregate(incidents=counted(), filters_given=filters_given, within=within, options=options)
        return any("casualties_summarycell" in sql for sql in aggregate_statements(context))

    TallyFactory(incident=IncidentFactory(region=idlib["saraqib"]), best=3)

    assert reads_cells(set())
    assert reads_cells({"region", "date_from", "date_to"}, within=[idlib["idlib"]])
    assert reads_cells({"country"}, within=[idlib["syria"]], level=2)
    assert not reads_cells({"actor"})
    assert not reads_cells({"status"})
    assert not reads_cells({"q", "region"}, within=[idlib["idlib"]])
    assert not reads_cells(set(), level=3)
    assert not reads_cells({"region"}, within=[idlib["saraqib"]])


@pytest.mark.django_db(transaction=True)
def test_an_aggregate_stopped_by_its_time_limit_says_so(idlib, monkeypatch):
    """A statement waiting on a lock runs out of time like a slow one, whatever the machine's speed (the data are
    committed, so that only the other connection holds a lock)."""
    IncidentFactory(region=idlib["saraqib"])
    monkeypatch.setattr(aggregate_sql, "AGGREGATE_TIME_LIMIT", "200ms")
    holder = psycopg.connect(**connection.get_connection_params(), autocommit=False)
    try:
        holder.execute("SET lock_timeout = '5s'")
        holder.execute("LOCK TABLE casualties_estimate IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(AggregateTimedOut) as stopped:
            incident_basis_aggregate(incidents=counted(), filters_given={"actor"}, options=AggregateOptions("month", 3))
    finally:
        holder.close()

    assert "took longer than 200ms" in str(stopped.value)


def test_an_aggregate_is_one_query(idlib):
    TallyFactory(incident=IncidentFactory(region=idlib["idlib"]), best=1)
    incidents = counted().filter(region__path__startswith=idlib["syria"].path)

    with CaptureQueriesContext(connection) as context:
        casualty_aggregate(
            incidents=incidents,
            options=AggregateOptions(interval="week", region_level=3, fill=(D(2017, 1, 1), D(2017, 12, 31))),
        )
    assert len(data_queries(context)) == 1
    with CaptureQueriesContext(connection) as context:
        summary_aggregate(
            within=[idlib["syria"]],
            options=AggregateOptions(interval="week", region_level=1, fill=(D(2017, 1, 1), D(2017, 12, 31))),
        )
    assert len(data_queries(context)) == 1


def test_an_incident_reached_through_several_tallies_is_still_counted_once(idlib):
    incident = IncidentFactory(region=idlib["saraqib"], date_start=D(2017, 7, 19))
    TallyFactory(incident=incident, report=ReportFactory(), status="civilian", low=5, best=10, high=15)
    TallyFactory(incident=incident, report=ReportFactory(), status="combatant", low=20, best=20, high=25)
    # The join to tallies gives the incident's row twice.
    through_tallies = counted().filter(tallies__best__gte=10)
    assert through_tallies.count() == 2

    for status, low, best, high in (("civilian", 5, 10, 15), ("all", 25, 30, 40)):
        result = casualty_aggregate(
            incidents=through_tallies, options=AggregateOptions(interval="year", region_level=1, casualty_status=status)
        )
        assert figures(result.results) == [(D(2017, 1, 1), "SY07", 1, 1, low, best, high)]
        assert result.totals == {"incidents": 1, "incidents_with_figures": 1, "low": low, "best": best, "high": high}
