"""The aggregation selectors against a brute-force reference on random data.

Each example builds a small random gazetteer, incidents located at random levels with random figures
(several sources, outcomes, statuses and of-which groups; some incidents unverified or merged) and
random period totals over ranges that cross bucket boundaries; then, for every interval x region
level x basis, with and without fill, the selector's rows must equal the reference computed here in
plain Python, and the rows must sum to the totals.
"""

import datetime
from collections import defaultdict
from fractions import Fraction

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from casualties.choices import CasualtyGroup, CasualtyStatus, Outcome, ReviewStatus
from casualties.models import Estimate, Region
from casualties.selectors import (
    ALL_STATUSES,
    AggregateOptions,
    aggregate_incidents,
    casualty_aggregate,
    period_totals,
    reported_totals_aggregate,
)
from tests.factories import (
    IncidentFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

INTERVALS = [None, "day", "week", "month", "quarter", "year"]
LEVELS = [None, 0, 1, 2, 3, 4]
FIRST_DAY = datetime.date(2016, 11, 20)
DAYS = 500  # to early April 2018: crosses weeks, months, quarters and years

# ---------------------------------------------------------------- the reference


def bucket_start(day: datetime.date, interval: str | None) -> datetime.date | None:
    if interval is None:
        return None
    if interval == "day":
        return day
    if interval == "week":
        return day - datetime.timedelta(days=day.isoweekday() - 1)
    if interval == "month":
        return day.replace(day=1)
    if interval == "quarter":
        return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return datetime.date(day.year, 1, 1)


def bucket_after(start: datetime.date, interval: str) -> datetime.date:
    """The first day of the bucket that follows the one starting on ``start``."""
    if interval == "day":
        return start + datetime.timedelta(days=1)
    if interval == "week":
        return start + datetime.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[interval]
    index = start.year * 12 + start.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def buckets_between(first: datetime.date, last: datetime.date, interval: str) -> list[datetime.date]:
    found, start = [], bucket_start(first, interval)
    while start <= last:
        found.append(start)
        start = bucket_after(start, interval)
    return found


def group_of(region: Region, level: int | None) -> tuple[str | None, int | None]:
    if level is None:
        return None, None
    codes = region.path.strip("/").split("/")
    at = min(region.level, level)
    return codes[at], at


def split_by_days(value: int, shares: dict) -> dict:
    """``value`` split in proportion to ``shares`` (bucket -> days): largest remainder, ties to the earlier."""
    whole = sum(shares.values())
    exact = {bucket: Fraction(value * days, whole) for bucket, days in shares.items()}
    parts = {bucket: int(share) for bucket, share in exact.items()}
    by_remainder = sorted(exact, key=lambda b: (-(exact[b] - parts[b]), b or datetime.date.min))
    for bucket in by_remainder[: value - sum(parts.values())]:
        parts[bucket] += 1
    assert sum(parts.values()) == value
    return parts


def empty_row() -> dict:
    return {"incidents": 0, "incidents_with_figures": 0, "low": None, "best": None, "high": None}


def add_figure(row: dict, low: int, best: int, high: int) -> None:
    for field, value in (("low", low), ("best", best), ("high", high)):
        row[field] = (row[field] or 0) + value


def reference_incidents(incidents, estimates, options, level, interval) -> dict:
    statuses = CasualtyStatus.values if options["casualty_status"] == ALL_STATUSES else [options["casualty_status"]]
    rows = defaultdict(empty_row)
    for incident in incidents:
        if incident.status != ReviewStatus.VERIFIED or incident.duplicate_of_id is not None:
            continue
        row = rows[(bucket_start(incident.date_start, interval), *group_of(incident.region, level))]
        row["incidents"] += 1
        mine = [
            e
            for e in estimates
            if e.incident_id == incident.pk
            and e.outcome == options["outcome"]
            and e.status in statuses
            and e.group == options["group"]
        ]
        if mine:
            row["incidents_with_figures"] += 1
            add_figure(row, sum(e.low for e in mine), sum(e.best for e in mine), sum(e.high for e in mine))
    return dict(rows)


def reference_totals(tallies, options, level, interval) -> dict:
    statuses = CasualtyStatus.values if options["casualty_status"] == ALL_STATUSES else [options["casualty_status"]]
    rows = {}
    for tally in tallies:
        if (tally.outcome, tally.group) != (options["outcome"], options["group"]) or tally.status not in statuses:
            continue
        period = tally.reporting_period
        shares = defaultdict(int)
        day = period.date_start
        while day <= period.date_end:
            shares[bucket_start(day, interval)] += 1
            day += datetime.timedelta(days=1)
        parts = {f: split_by_days(getattr(tally, f), shares) for f in ("low", "best", "high")}
        for bucket in shares:
            key = (bucket, *group_of(tally.region, level))
            row = rows.setdefault(key, {**empty_row(), "incidents": None, "incidents_with_figures": None})
            add_figure(row, parts["low"][bucket], parts["best"][bucket], parts["high"][bucket])
    return rows


def with_fill(rows: dict, fill, interval, level, zero: dict) -> dict:
    starts = [key[0] for key in rows]
    first = min([fill[0], *starts])
    last = max([fill[1], *starts])
    groups = {key[1:] for key in rows} if level is not None else {(None, None)}
    dense = dict(rows)
    for bucket in buckets_between(first, last, interval):
        for group in groups:
            dense.setdefault((bucket, *group), dict(zero))
    return dense


def sum_rows(rows, zero_incidents) -> dict:
    totals = {"incidents": zero_incidents, "incidents_with_figures": zero_incidents, "low": None, "best": None}
    totals["high"] = None
    for row in rows:
        for field, value in row.items():
            if value is not None:
                totals[field] = (totals[field] or 0) + value
    return totals


def keyed(result, names: dict, interval: str | None) -> dict:
    rows = {}
    for row in result.results:
        key = (row["period_start"], row["region_code"], row["region_level"])
        assert key not in rows, f"two rows for {key}"
        assert row["region_name"] == names.get(row["region_code"])
        if row["period_start"] is not None:
            end = bucket_after(row["period_start"], interval) - datetime.timedelta(days=1)
            assert row["period_end"] == end
        rows[key] = {f: row[f] for f in ("incidents", "incidents_with_figures", "low", "best", "high")}
    return rows


# ---------------------------------------------------------------- random data

figure = st.tuples(st.integers(0, 30), st.integers(0, 40), st.integers(0, 30)).map(
    lambda t: (t[0], t[0] + t[1], t[0] + t[1] + t[2])
)
any_kind = st.tuples(
    st.sampled_from(Outcome.values), st.sampled_from(CasualtyStatus.values), st.sampled_from(CasualtyGroup.values)
)


@st.composite
def scenarios(draw):
    options = draw(
        st.fixed_dictionaries(
            {
                "outcome": st.sampled_from(Outcome.values),
                "casualty_status": st.sampled_from([*CasualtyStatus.values, ALL_STATUSES]),
                "group": st.sampled_from(CasualtyGroup.values),
            }
        )
    )
    # Most figures are of the kind asked for (any status when all are summed), so most sums are not empty.
    status = st.sampled_from(CasualtyStatus.values) if options["casualty_status"] == ALL_STATUSES else None
    asked = st.tuples(
        st.just(options["outcome"]), status or st.just(options["casualty_status"]), st.just(options["group"])
    )
    kinds = st.one_of(asked, asked, any_kind)
    # A tree of regions: each entry (parent index or None); levels follow the parents.
    tree = []
    for _country in range(draw(st.integers(1, 2))):
        tree.append(None)
        frontier = [len(tree) - 1]
        for _level in range(draw(st.integers(1, 4))):
            children = []
            for parent in frontier:
                for _child in range(draw(st.integers(0, 2))):
                    tree.append(parent)
                    children.append(len(tree) - 1)
            frontier = children
    incidents = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "region": st.integers(0, len(tree) - 1),
                    "day": st.integers(0, DAYS),
                    "status": st.sampled_from(
                        [ReviewStatus.VERIFIED] * 4 + [ReviewStatus.DRAFT, ReviewStatus.SUBMITTED]
                    ),
                    "duplicate": st.integers(0, 4).map(lambda n: n == 0),
                    "tallies": st.lists(
                        st.tuples(st.integers(0, 2), st.integers(0, 30), kinds, figure), min_size=1, max_size=4
                    ),
                }
            ),
            min_size=1,
            max_size=8,
        )
    )
    totals = draw(
        st.lists(
            st.tuples(
                st.integers(0, 1),
                st.integers(0, len(tree) - 1),
                st.integers(0, DAYS),
                st.integers(0, 120),
                kinds,
                figure,
            ),
            max_size=6,
        )
    )
    fill_start = draw(st.integers(0, DAYS))
    fill = (day(fill_start), day(min(DAYS, fill_start + draw(st.integers(0, 200)))))
    return {"tree": tree, "incidents": incidents, "totals": totals, "options": options, "fill": fill}


def day(offset: int) -> datetime.date:
    return FIRST_DAY + datetime.timedelta(days=offset)


def build(scenario):
    regions = []
    for parent in scenario["tree"]:
        regions.append(RegionFactory(parent=regions[parent] if parent is not None else None))
    sources = [SourceFactory() for _ in range(3)]
    incidents = []
    for spec in scenario["incidents"]:
        duplicate_of = incidents[0] if spec["duplicate"] and incidents else None
        incident = IncidentFactory(
            region=regions[spec["region"]],
            date_start=day(spec["day"]),
            status=spec["status"],
            duplicate_of=duplicate_of,
        )
        for source, published, kind, (low, best, high) in spec["tallies"]:
            report = ReportFactory(source=sources[source], published_on=day(spec["day"] + published))
            TallyFactory(
                incident=incident,
                report=report,
                outcome=kind[0],
                status=kind[1],
                group=kind[2],
                low=low,
                best=best,
                high=high,
            )
        incidents.append(incident)
    tallies, taken = [], defaultdict(list)
    for source, region, start, length, kind, (low, best, high) in scenario["totals"]:
        first, last = day(start), day(min(DAYS, start + length))
        key = (source, region, kind)
        if any(first <= other_last and other_first <= last for other_first, other_last in taken[key]):
            continue  # one source's totals for one region and kind never overlap
        taken[key].append((first, last))
        tallies.append(
            TallyFactory(
                incident=None,
                region=regions[region],
                report=ReportFactory(source=sources[source]),
                reporting_period=ReportingPeriodFactory(date_start=first, date_end=last),
                outcome=kind[0],
                status=kind[1],
                group=kind[2],
                low=low,
                best=best,
                high=high,
            )
        )
    return regions, sources, incidents, tallies


# ---------------------------------------------------------------- the property


def check(result, expected: dict, interval, names, zero_incidents) -> None:
    assert keyed(result, names, interval) == expected
    assert result.totals == sum_rows(expected.values(), zero_incidents)
    assert result.totals == sum_rows([{f: r[f] for f in result.totals} for r in result.results], zero_incidents), (
        "the rows do not sum to the totals"
    )


@pytest.mark.slow
@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios())
def test_aggregates_equal_a_brute_force_count_for_every_interval_level_and_basis(scenario):
    with transaction.atomic():
        regions, sources, incidents, tallies = build(scenario)
        names = {r.code: r.name for r in regions}
        estimates = list(Estimate.objects.all())
        source_totals = [[t for t in tallies if t.source_id == s.pk] for s in sources[:2]]
        options, fill = scenario["options"], scenario["fill"]
        counted = aggregate_incidents(user=AnonymousUser(), statuses_requested=False)
        figured = reference_incidents(incidents, estimates, options, None, None).get((None, None, None), empty_row())
        event(f"incidents with figures: {min(figured['incidents_with_figures'], 3)}")
        spanning = [t for t in tallies if t.reporting_period.date_start.month != t.reporting_period.date_end.month]
        event(f"period totals spanning months: {min(len(spanning), 2)}")
        for interval in INTERVALS:
            for level in LEVELS:
                expected = reference_incidents(incidents, estimates, options, level, interval)
                result = casualty_aggregate(
                    incidents=counted, options=AggregateOptions(interval=interval, region_level=level, **options)
                )
                check(result, expected, interval, names, 0)
                for source, mine in zip(sources, source_totals, strict=False):
                    expected_totals = reference_totals(mine, options, level, interval)
                    result = reported_totals_aggregate(
                        totals=period_totals(source=source),
                        options=AggregateOptions(interval=interval, region_level=level, **options),
                    )
                    check(result, expected_totals, interval, names, None)
                if interval is None:
                    continue
                zero = {"incidents": 0, "incidents_with_figures": 0, "low": None, "best": None, "high": None}
                result = casualty_aggregate(
                    incidents=counted,
                    options=AggregateOptions(interval=interval, region_level=level, fill=fill, **options),
                )
                check(result, with_fill(expected, fill, interval, level, zero), interval, names, 0)
                unknown = dict.fromkeys(zero)
                result = reported_totals_aggregate(
                    totals=period_totals(source=sources[0]),
                    options=AggregateOptions(interval=interval, region_level=level, fill=fill, **options),
                )
                expected_totals = reference_totals(source_totals[0], options, level, interval)
                check(result, with_fill(expected_totals, fill, interval, level, unknown), interval, names, None)
        transaction.set_rollback(True)
