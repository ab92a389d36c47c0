"""The aggregate summary: kept equal, by the database, to the cells computed plainly from the incidents and
estimates, through any sequence of writes; and answering aggregates exactly as the incidents do."""

import datetime
from collections import defaultdict

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from casualties.choices import CasualtyGroup, CasualtyStatus, Outcome, ReviewStatus
from casualties.models import CasualtyTally, Estimate, Incident, Region, SummaryCell
from casualties.selectors import (
    ALL_STATUSES,
    AggregateOptions,
    aggregate_incidents,
    casualty_aggregate,
    summary_aggregate,
)
from casualties.services import summary_drift, summary_rebuild
from tests.factories import IncidentFactory, RegionFactory, ReportFactory, SourceFactory, TallyFactory

pytestmark = pytest.mark.django_db

FIRST_DAY = datetime.date(2016, 12, 20)
D = datetime.date


def day(offset: int) -> datetime.date:
    return FIRST_DAY + datetime.timedelta(days=offset)


# ---------------------------------------------------------------- the plain reference


def reference_cells() -> dict:
    """The summary written out plainly: for each public incident, its count and its estimates (per status and
    all statuses added up) in the day, ISO week and month of its first day, in its region cut at admin2."""
    cells = defaultdict(lambda: [0, 0, 0, 0])
    estimates = defaultdict(list)
    for estimate in Estimate.objects.all():
        estimates[estimate.incident_id].append(estimate)
    for incident in Incident.objects.filter(status=ReviewStatus.VERIFIED, duplicate_of__isnull=True).select_related(
        "region"
    ):
        path = "".join(f"{code}/" for code in incident.region.path.split("/")[:3] if code)
        start = incident.date_start
        buckets = {
            "day": start,
            "week": start - datetime.timedelta(days=start.weekday()),
            "month": start.replace(day=1),
        }
        all_statuses = defaultdict(lambda: [0, 0, 0])
        figures = [("", (0, 0, 0))]
        for e in estimates[incident.pk]:
            figures.append((f"{e.outcome}/{e.status}/{e.group}", (e.low, e.best, e.high)))
            total = all_statuses[(e.outcome, e.group)]
            for i, value in enumerate((e.low, e.best, e.high)):
                total[i] += value
        figures += [(f"{outcome}/all/{group}", tuple(total)) for (outcome, group), total in all_statuses.items()]
        for grain, bucket in buckets.items():
            for figure, (low, best, high) in figures:
                cell = cells[(grain, figure, path, bucket)]
                cell[0] += 1
                cell[1] += low
                cell[2] += best
                cell[3] += high
    return {key: tuple(value) for key, value in cells.items()}


def summary_cells() -> dict:
    return {
        (c.grain, c.figure, c.path, c.bucket): (c.incidents, c.low, c.best, c.high) for c in SummaryCell.objects.all()
    }


def exact(within=(), date_from=None, date_to=None, **options):
    """The same aggregate computed from the incidents."""
    incidents = aggregate_incidents(user=AnonymousUser(), statuses_requested=False)
    for region in within:
        incidents = incidents.filter(region__path__startswith=region.path)
    if date_from:
        incidents = incidents.filter(date_end__gte=date_from)
    if date_to:
        incidents = incidents.filter(date_start__lte=date_to)
    return casualty_aggregate(incidents=incidents, options=AggregateOptions(**options))


def assert_same(within=(), date_from=None, date_to=None, **options):
    from_summary = summary_aggregate(
        within=within, date_from=date_from, date_to=date_to, options=AggregateOptions(**options)
    )
    from_incidents = exact(within, date_from, date_to, **options)
    assert from_summary is not None
    assert from_summary.results == from_incidents.results
    assert from_summary.totals == from_incidents.totals


# ---------------------------------------------------------------- any sequence of writes

new_incident = st.tuples(
    st.just("incident"),
    st.integers(0, 50),  # region index
    st.integers(0, 400),  # first day
    st.sampled_from([0, 0, 0, 3, 40]),  # days it lasts after the first
    st.sampled_from([ReviewStatus.VERIFIED] * 3 + [ReviewStatus.DRAFT, ReviewStatus.REJECTED]),
)
new_tally = st.tuples(
    st.just("tally"),
    st.integers(0, 50),  # incident index
    st.sampled_from(Outcome.values[:2]),
    st.sampled_from(CasualtyStatus.values),
    st.sampled_from([CasualtyGroup.ALL, CasualtyGroup.ALL, CasualtyGroup.CHILDREN]),
    st.integers(0, 20),
    st.integers(0, 30),  # days after the incident's start the report is published
)
# Some incidents with figures first, then any writes in any order.
operations = st.tuples(
    st.lists(new_incident, min_size=1, max_size=5),
    st.lists(new_tally, min_size=1, max_size=8),
    st.lists(
        st.one_of(
            new_incident,
            new_tally,
            st.tuples(st.just("delete tally"), st.integers(0, 50)),
            st.tuples(st.just("prefer tally"), st.integers(0, 50)),
            st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(ReviewStatus.values)),
            st.tuples(st.just("merge"), st.integers(0, 50), st.integers(0, 50)),
            st.tuples(st.just("unmerge"), st.integers(0, 50)),
            st.tuples(st.just("move in time"), st.integers(0, 50), st.integers(-60, 60)),
            st.tuples(st.just("move in place"), st.integers(0, 50), st.integers(0, 50)),
            st.tuples(st.just("move region"), st.integers(0, 50), st.integers(0, 50)),
            st.tuples(st.just("delete incident"), st.integers(0, 50)),
        ),
        max_size=20,
    ),
).map(lambda parts: [step for part in parts for step in part])


def gazetteer() -> list[Region]:
    """Two countries, each two provinces deep to communities (levels 0 to 4)."""
    regions = []
    for _country in range(2):
        frontier = [RegionFactory()]
        regions += frontier
        for level in range(1, 5):
            frontier = [RegionFactory(parent=parent) for parent in frontier for _ in range(2 if level <= 2 else 1)]
            regions += frontier
    return regions


def pick(items: list, index: int):
    return items[index % len(items)] if items else None


def apply(operation: tuple, regions: list[Region], sources) -> None:
    name, *args = operation
    incidents = list(Incident.objects.order_by("pk"))
    tallies = list(CasualtyTally.objects.filter(incident__isnull=False).order_by("pk"))
    if name == "incident":
        region, first, length, status = args
        IncidentFactory(
            region=pick(regions, region), date_start=day(first), date_end=day(first + length), status=status
        )
    elif name == "tally" and incidents:
        index, outcome, status, group, best, published = args
        incident = pick(incidents, index)
        report = ReportFactory(
            source=pick(sources, index), published_on=incident.date_start + datetime.timedelta(days=published)
        )
        TallyFactory(incident=incident, report=report, outcome=outcome, status=status, group=group, best=best)
    elif name == "delete tally" and tallies:
        pick(tallies, args[0]).delete()
    elif name == "prefer tally" and tallies:
        tally = pick(tallies, args[0])
        CasualtyTally.objects.filter(
            incident=tally.incident_id, outcome=tally.outcome, status=tally.status, group=tally.group
        ).update(is_preferred=False)
        CasualtyTally.objects.filter(pk=tally.pk).update(is_preferred=True)
    elif name == "status" and incidents:
        Incident.objects.filter(pk=pick(incidents, args[0]).pk).update(status=args[1])
    elif name == "merge" and len(incidents) > 1:
        duplicate, into = pick(incidents, args[0]), pick(incidents, args[1])
        if duplicate.pk != into.pk and into.duplicate_of_id is None:
            duplicate.duplicate_of = into
            duplicate.save()
    elif name == "unmerge" and incidents:
        Incident.objects.filter(pk=pick(incidents, args[0]).pk).update(duplicate_of=None)
    elif name == "move in time" and incidents:
        incident, shift = pick(incidents, args[0]), datetime.timedelta(days=args[1])
        if incident.date_start + shift >= FIRST_DAY:
            incident.date_start += shift
            incident.date_end += shift
            incident.save()
    elif name == "move in place" and incidents:
        incident = pick(incidents, args[0])
        incident.region = pick(regions, args[1])
        incident.save()
    elif name == "move region":
        # A unit moves under another parent of the same level: its path and its descendants' paths change.
        region = pick([r for r in regions if r.level >= 1], args[0])
        parents = [r for r in regions if r.level == region.level - 1 and r.pk != region.parent_id]
        region.refresh_from_db()
        region.parent = pick(parents, args[1])
        region.save()
    elif name == "delete incident" and incidents:
        incident = pick(incidents, args[0])
        Incident.objects.filter(duplicate_of=incident).update(duplicate_of=None)
        incident.delete()


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=operations)
def test_the_summary_equals_a_plain_count_after_any_sequence_of_writes(steps):
    with transaction.atomic():
        regions, sources = gazetteer(), [SourceFactory() for _ in range(2)]
        for step in steps:
            apply(step, regions, sources)
            assert summary_cells() == reference_cells(), f"after {step}"
        public = Incident.objects.filter(status=ReviewStatus.VERIFIED, duplicate_of__isnull=True)
        with_figures = public.filter(estimates__isnull=False).distinct().count()
        event(f"public incidents: {min(public.count(), 3)}, with figures: {min(with_figures, 3)}")
        assert summary_drift() == 0
        countries = [r for r in regions if r.level == 0]
        for options in (
            {"interval": "week", "region_level": 2},
            {"interval": "month", "region_level": 1, "casualty_status": ALL_STATUSES},
            {"interval": None, "region_level": 0, "outcome": Outcome.INJURED, "casualty_status": "combatant"},
            {"interval": "day", "region_level": None, "group": CasualtyGroup.CHILDREN},
        ):
            assert_same(**options)
            assert_same(within=[countries[0]], date_from=day(30), date_to=day(200), **options)
        transaction.set_rollback(True)


# ---------------------------------------------------------------- aggregates from the summary


@pytest.fixture
def places(idlib_places):
    return idlib_places


def killed(region, best, start, end=None, status=ReviewStatus.VERIFIED):
    incident = IncidentFactory(region=region, date_start=start, date_end=end or start, status=status)
    TallyFactory(incident=incident, best=best, low=best, high=best + 1)
    return incident


def test_an_incident_that_began_before_date_from_is_counted_once_in_the_bucket_of_its_first_day(places):
    killed(places["saraqib"], 5, D(2017, 6, 28), D(2017, 7, 3))  # overlaps July, began in June
    killed(places["saraqib"], 7, D(2017, 7, 10))
    killed(places["idlib"], 11, D(2017, 6, 20), D(2017, 6, 30))  # over before July: not counted
    killed(places["aleppo"], 13, D(2017, 5, 1), D(2017, 8, 31))  # elsewhere: not in Idlib
    options = {"interval": "month", "region_level": 2}

    result = summary_aggregate(
        within=[places["idlib"]], date_from=D(2017, 7, 1), date_to=D(2017, 7, 31), options=AggregateOptions(**options)
    )

    assert [(r["period_start"], r["region_code"], r["incidents"], r["best"]) for r in result.results] == [
        (D(2017, 6, 1), "SY0700", 1, 5),
        (D(2017, 7, 1), "SY0700", 1, 7),
    ]
    assert result.totals == {"incidents": 2, "incidents_with_figures": 2, "low": 12, "best": 12, "high": 14}
    for date_from, date_to in [(D(2017, 7, 1), D(2017, 7, 31)), (D(2017, 7, 2), None), (None, D(2017, 6, 29))]:
        for interval in ("day", "week", "month", "quarter", None):
            assert_same(
                within=[places["idlib"]], date_from=date_from, date_to=date_to, interval=interval, region_level=2
            )


def test_the_grain_read_is_the_coarsest_that_fits_the_interval_and_the_dates(places):
    killed(places["saraqib"], 5, D(2017, 7, 19))

    def grain_read(interval, date_from=None, date_to=None) -> str:
        with CaptureQueriesContext(connection) as context:
            summary_aggregate(
                date_from=date_from, date_to=date_to, options=AggregateOptions(interval=interval, region_level=1)
            )
        sql = next(q["sql"] for q in context.captured_queries if "casualties_summarycell" in q["sql"])
        return next(grain for grain in ("'day'", "'week'", "'month'") if grain in sql).strip("'")

    assert grain_read(interval="year") == "month"
    assert grain_read(interval="quarter", date_from=D(2017, 4, 1), date_to=D(2017, 9, 30)) == "month"
    assert grain_read(interval="month", date_from=D(2017, 4, 2)) == "day"
    assert grain_read(interval="week", date_from=D(2017, 7, 17), date_to=D(2017, 7, 23)) == "week"
    assert grain_read(interval="week", date_from=D(2017, 7, 18)) == "day"
    assert grain_read(interval=None) == "month"
    assert grain_read(interval=None, date_from=D(2017, 7, 17)) == "week"
    assert grain_read(interval="day") == "day"


def test_requests_finer_than_admin2_are_left_to_the_incidents(places):
    killed(places["saraqib"], 5, D(2017, 7, 19))
    assert summary_aggregate(options=AggregateOptions(interval="month", region_level=3)) is None
    assert (
        summary_aggregate(within=[places["saraqib"]], options=AggregateOptions(interval="month", region_level=1))
        is None
    )
    assert_same(within=[places["district"]], interval="month", region_level=2)


def test_moving_a_governorate_to_another_country_moves_its_cells(places):
    killed(places["saraqib"], 5, D(2017, 7, 19))
    turkey = RegionFactory(code="TUR", name="Turkey")
    idlib = places["idlib"]
    idlib.parent = turkey
    idlib.save()

    result = summary_aggregate(options=AggregateOptions(interval=None, region_level=0))

    assert [(r["region_code"], r["best"]) for r in result.results] == [("TUR", 5)]
    assert summary_drift() == 0


def test_a_cell_without_incidents_is_refused_by_the_database(places):
    killed(places["saraqib"], 5, D(2017, 7, 19))
    with pytest.raises(IntegrityError, match="summary has drifted"), transaction.atomic():
        SummaryCell.objects.filter(grain="day", figure="").update(incidents=0)
    with pytest.raises(IntegrityError, match="summary has drifted"), transaction.atomic():
        SummaryCell.objects.filter(grain="day", figure="killed/civilian/all").update(low=7)  # low above best


def test_a_rebuild_gives_the_cells_the_triggers_keep(places, database_owner):
    for offset in range(12):
        killed(places["saraqib" if offset % 2 else "aleppo"], offset, D(2017, 1, 1) + datetime.timedelta(days=offset))
    kept = summary_cells()
    # Per incident and grain: the count, killed civilians, and killed of all statuses; some share a week or month.
    assert len(kept) == len(reference_cells()) > 12 * 3
    assert summary_rebuild() == len(kept)
    assert summary_cells() == kept == reference_cells()
