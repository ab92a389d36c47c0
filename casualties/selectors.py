"""Named read queries: the aggregations behind /api/v1/aggregates/.

Every figure the aggregate endpoint returns comes from ``casualty_aggregate`` (incident basis, from the
incidents), ``summary_aggregate`` (the same rows from the summary cells) or ``reported_totals_aggregate``
(reported-totals basis); each is one SQL statement that computes the rows, the totals and the exact size check
together (casualties.aggregate_sql). ``incident_basis_aggregate`` chooses between the first two and refuses a
request too large for the cap before either runs. The counting rules are in their docstrings and in
docs/aggregation.md.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection, Sequence, Set

from django.db.models import QuerySet, TextChoices

from sources.models import Source

from .aggregate_sql import (
    AGGREGATE_ROW_CAP,
    AGGREGATE_SESSION,
    AGGREGATE_TIME_LIMIT,
    ALL_STATUSES,
    ROW_FIELDS,
    Aggregate,
    AggregateOptions,
    AggregateTimedOut,
    AggregateTooLarge,
    Interval,
    aggregate_transaction,
    figures_join,
    ids_sql,
    incident_rows_sql,
    run_grouped,
    statuses_of,
    to_aggregate,
    with_incident_counts,
)
from .models import CasualtyTally, Incident, Region
from .models.incidents import PUBLIC_SET
from .models.summary import SUMMARY_LEVEL, SummaryGrain
from .roles import counted_filter, visible_incidents

# Names other modules take from here: the aggregate's options, limits and answers.
__all__ = [
    "AGGREGATE_ROW_CAP",
    "AGGREGATE_SESSION",
    "AGGREGATE_TIME_LIMIT",
    "ALL_STATUSES",
    "ROW_FIELDS",
    "Aggregate",
    "AggregateOptions",
    "AggregateTimedOut",
    "AggregateTooLarge",
    "Basis",
    "Interval",
    "aggregate_incidents",
    "casualty_aggregate",
    "ids_sql",
    "incident_basis_aggregate",
    "period_totals",
    "reported_totals_aggregate",
    "summary_aggregate",
]


class Basis(TextChoices):
    INCIDENTS = "incidents", "Incidents: the estimates of counted incidents"
    REPORTED_TOTALS = "reported_totals", "Reported totals: one source's period totals"


# How far the planner's estimate of the summary cells of a range may be trusted: beyond this factor of the cap
# either way it decides alone; in between, the cells are counted.
CELL_ESTIMATE_MARGIN = 2


def aggregate_incidents(*, user, statuses_requested: bool) -> QuerySet[Incident]:
    """The incidents an aggregate may count for ``user``, before the query filters.

    Merged duplicates never count (a person is never counted twice). Without a ``status`` filter only
    verified incidents count; with one, the filter chooses among what ``user`` may see (casualties.roles).
    """
    if not statuses_requested:
        return visible_incidents(user, Incident.objects.filter(counted_filter()))
    return visible_incidents(user, Incident.objects.filter(duplicate_of__isnull=True))


def period_totals(
    *,
    source: Source,
    within: Sequence[Region] = (),
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[CasualtyTally]:
    """One source's period totals inside every region of ``within`` whose period overlaps [date_from, date_to]."""
    totals = CasualtyTally.objects.filter(region__isnull=False, source=source)
    for region in within:
        totals = totals.filter(region__path__startswith=region.path)
    if date_from is not None:
        totals = totals.filter(reporting_period__date_end__gte=date_from)
    if date_to is not None:
        totals = totals.filter(reporting_period__date_start__lte=date_to)
    return totals


def casualty_aggregate(
    *,
    incidents: QuerySet[Incident],
    options: AggregateOptions,
) -> Aggregate:
    """Casualties on the incident basis: each incident of ``incidents`` counted exactly once.

    Counting rule:
    - An incident goes to the date bucket of its ``date_start`` (weeks are ISO weeks, from Monday)
      and to its ancestor at ``region_level``. An incident located only more coarsely than that level
      goes to a row for its own region, whose ``region_level`` is smaller than the one asked for
      (district unknown: the governorate's row). So every incident is in exactly one row and the
      rows always sum to the totals.
    - ``incidents`` counts every incident in the row, with or without a figure for the requested
      outcome, status and group; ``incidents_with_figures`` counts those that have one.
    - ``low``, ``best`` and ``high`` are the sums of the incidents' estimates, each separately.
      Missing is not zero: they are null when no incident in the row has a figure.
    - Only the ``group`` asked for is summed (an of-which subgroup is never added to ``all``).
      Statuses are summed only for ``casualty_status="all"``.
    - ``fill=(first, last)`` adds a row for every bucket from ``first`` to ``last`` and every region
      group present, with 0 incidents and null low/best/high: no incident was recorded there, so there
      is no figure to sum (read it as no recorded casualties). Null rather than 0 keeps both promises:
      the rows sum to the totals, and an unknown figure is never turned into 0.
    """
    grouping = options.grouping
    incidents_sql, incidents_params = incident_rows_sql(incidents)
    region_sql, region_params = grouping.region("i")
    figures, figure_params = figures_join(options)
    # The filtered incidents are a derived table joined in place (PostgreSQL merges it into the scan), so
    # the incident table is read once, with its region's path and level from the join a region filter
    # already makes; each incident is one row with its figure, if any.
    base_sql = f"""
        base AS (
          SELECT {grouping.bucket("i.date_start")} AS bucket, {region_sql}, 1 AS incidents,
                 (e.incident_id IS NOT NULL)::integer AS with_figures, e.low, e.best, e.high
            FROM ({incidents_sql}) AS i (id, date_start, path, level)
            LEFT JOIN {figures}
        )"""
    base_params = [*region_params, *incidents_params, *figure_params]
    rows = run_grouped(options, base_sql, base_params, fill_values="0, 0, NULL, NULL, NULL")
    return with_incident_counts(to_aggregate(rows))


def summary_aggregate(
    *,
    within: Sequence[Region] = (),
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    options: AggregateOptions,
) -> Aggregate | None:
    """``casualty_aggregate`` of the public set (verified incidents not merged away) inside every region of
    ``within`` whose dates overlap [date_from, date_to], read from the summary cells (casualties.models.summary)
    instead of the incidents; the same rows, by the same counting rule.

    The cells hold the incidents by the day, ISO week or month of their ``date_start``, in their region cut at
    admin2. The coarsest grain whose buckets fit in the interval's buckets and in the date range is read. An
    incident that began before ``date_from`` and ends on or after it overlaps the range without being in a
    cell inside it: those (multi-day incidents only) are counted from the incidents, by an index on their span.

    Returns None when the summary cannot answer: a region or a ``region_level`` finer than admin2.
    """
    if not summary_can_answer(within=within, options=options):
        return None
    grain = _summary_grain(options.interval, date_from, date_to)
    grouping = options.grouping
    region_sql, region_params = grouping.region()
    figure = f"{options.outcome}/{options.casualty_status}/{options.group}"
    cell_where, cell_params = ["r.grain = %s", "r.figure IN ('', %s)"], [grain, figure]
    span_where, span_params = [], []
    for region in within:
        cell_where.append("r.path LIKE %s")
        span_where.append("r.path LIKE %s")
        cell_params.append(_under(region))
        span_params.append(_under(region))
    range_where, range_params = _bucket_range("r", date_from, date_to)
    cell_where += range_where
    cell_params += range_params
    if date_to is not None:
        span_where.append("i.date_start <= %s")
        span_params.append(date_to)
    # The cell is aliased r, as a region, for the grouping: it has the region's path and level.
    base_sql = f"""
        base AS (
          SELECT {grouping.bucket("r.bucket")} AS bucket, {region_sql},
                 CASE WHEN r.figure = '' THEN r.incidents ELSE 0 END AS incidents,
                 CASE WHEN r.figure = '' THEN 0 ELSE r.incidents END AS with_figures,
                 CASE WHEN r.figure = '' THEN NULL ELSE r.low END AS low,
                 CASE WHEN r.figure = '' THEN NULL ELSE r.best END AS best,
                 CASE WHEN r.figure = '' THEN NULL ELSE r.high END AS high
            FROM casualties_summarycell r
           WHERE {" AND ".join(cell_where)}"""
    base_params = [*region_params, *cell_params]
    if date_from is not None:
        figures, figure_params = figures_join(options, few=True)
        public_sql, public_params = Incident.objects.filter(counted_filter()).query.sql_with_params()
        # The partial GiST index casualties_incident_public_span answers "began before date_from and ends on or
        # after it" (the span holds the day before and date_from itself).
        base_sql += f"""
          UNION ALL
          SELECT {grouping.bucket("i.date_start")}, {region_sql}, 1,
                 (e.incident_id IS NOT NULL)::integer, e.low, e.best, e.high
            FROM ({public_sql}) i
            JOIN casualties_region r ON r.id = i.region_id
            LEFT JOIN {figures}
           WHERE daterange(i.date_start, i.date_end, '[]') @> daterange(%s::date - 1, %s::date, '[]')
             AND i.date_end > i.date_start {"".join(f" AND {w}" for w in span_where)}"""
        base_params += [*region_params, *public_params, *figure_params, date_from, date_from, *span_params]
    base_sql += "\n        )"
    rows = run_grouped(options, base_sql, base_params, fill_values="0, 0, NULL, NULL, NULL")
    return with_incident_counts(to_aggregate(rows))


# Incident filters the summary cells can answer (summary_aggregate); with any other (a review status, an actor, a
# source, a text search, ...) the incidents themselves are read.
SUMMARY_FILTERS = frozenset({"region", "country", "date_from", "date_to"})


def summary_can_answer(
    *, within: Sequence[Region], options: AggregateOptions, filters_given: Set[str] = frozenset()
) -> bool:
    """Whether the summary cells hold the answer: the public set filtered by place and dates only (``filters_given``
    names the incident filters a request used), grouped and filtered at admin2 or coarser."""
    if set(filters_given) - SUMMARY_FILTERS:
        return False
    if options.region_level is not None and options.region_level > SUMMARY_LEVEL:
        return False
    return all(region.level <= SUMMARY_LEVEL for region in within)


def incident_basis_aggregate(
    *,
    incidents: QuerySet[Incident],
    filters_given: Set[str],
    statuses: Collection[str] = (),
    within: Sequence[Region] = (),
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    options: AggregateOptions,
) -> Aggregate:
    """The incident-basis aggregate of ``incidents``: the counted incidents (``aggregate_incidents``) filtered by
    the incident filters named in ``filters_given``, of which ``within``, ``date_from`` and ``date_to`` are the
    place and date filters' values and ``statuses`` the review statuses asked for.

    Read from the summary cells when they hold the answer (``summary_can_answer``), else from the incidents; the
    rows are the same either way. A request too large for the cap is refused before either is read, when an
    estimate shows it (``aggregate_size_check``).
    """
    filters_given = set(filters_given)
    others = filters_given - SUMMARY_FILTERS
    # Every incident the user may see includes the public set (casualties.roles), so a status filter that keeps
    # the public set's status keeps all of it: the summary cells then count some of the incidents, never more.
    holds_public_set = not others or (others == {"status"} and PUBLIC_SET["status"] in statuses)
    from_summary = summary_can_answer(within=within, options=options, filters_given=filters_given)
    with aggregate_transaction():  # the size check and the aggregate in one transaction
        aggregate_size_check(
            within=within,
            date_from=date_from,
            date_to=date_to,
            options=options,
            holds_public_set=holds_public_set,
            incidents=None if from_summary else incidents,
        )
        if from_summary:
            return summary_aggregate(within=within, date_from=date_from, date_to=date_to, options=options)
        return casualty_aggregate(incidents=incidents, options=options)


# How many of the filtered incidents the size check reads, at most, to find more row groups than the cap; it reads
# them only when PostgreSQL expects that many groups.
GROUP_SAMPLE_FACTOR = 1.5


def aggregate_size_check(
    *,
    within: Sequence[Region],
    date_from: datetime.date | None,
    date_to: datetime.date | None,
    options: AggregateOptions,
    holds_public_set: bool,
    incidents: QuerySet[Incident] | None = None,
) -> None:
    """Refuse (AggregateTooLarge) a request whose rows exceed the cap, before any incident is grouped.

    The grid (buckets in the date range x regions of the gazetteer that can be a row) bounds the rows from above:
    within the cap, the request goes ahead. Beyond it, two lower bounds can show the rows exceed the cap:

    - The summary cells, when the incidents include the public set within the place and dates
      (``holds_public_set``), the interval is the cells' own grain and the rows are grouped at admin2 or finer: every
      summary cell of the range is then one row or more. PostgreSQL's estimate of those cells decides when it is
      CELL_ESTIMATE_MARGIN times the cap or more (refused) or that many times less (goes ahead); in between the
      cells are counted, up to one more than the cap.
    - The row groups of the first GROUP_SAMPLE_FACTOR x cap of ``incidents`` (the incidents the aggregate will
      read, when it reads them), when PostgreSQL expects more groups than the cap: each group found is a row.

    With ``fill`` and no region grouping there is one row per bucket of the range. Anything else is left to the
    size check of the aggregate's own statement, which counts the grouped rows.
    """
    grouping, cap, level = options.grouping, options.cap, options.region_level
    fill_from, fill_to = options.fill or (date_from, date_to)
    prefixes = [_under(region) for region in within]
    region_where = "".join(" AND r.path LIKE %s" for _ in prefixes)
    groups_sql = (
        "1" if level is None else f"(SELECT count(*) FROM casualties_region r WHERE r.level <= %s{region_where})"
    )
    groups_params = [] if level is None else [level, *prefixes]
    if grouping.interval is None:
        buckets_sql, buckets_params = "1", []
    else:
        buckets_sql = f"""(SELECT count(*) FROM generate_series({grouping.bucket("d.lo")}::timestamp, d.hi::timestamp,
                                                     {grouping.step}))"""
        buckets_params = []
    grain = _summary_grain(options.interval, date_from, date_to)
    whole_cells = options.interval == grain and level is not None and level >= SUMMARY_LEVEL
    countable = holds_public_set and options.fill is None and whole_cells
    sql = f"""
        SELECT {groups_sql} * {buckets_sql}
          FROM (SELECT COALESCE(%s::date, (SELECT min(date_start) FROM casualties_incident)) AS lo,
                       COALESCE(%s::date, (SELECT max(date_start) FROM casualties_incident)) AS hi) d"""
    with aggregate_transaction() as cursor:
        cursor.execute(sql, [*groups_params, *buckets_params, fill_from, fill_to])
        [grid] = cursor.fetchone()
        if options.fill is not None and level is None and grid > cap:
            raise AggregateTooLarge(grid, cap)  # one row per bucket of the range, and more if the data reach beyond
        if grid <= cap:
            return
        if countable:
            _check_summary_cells(cursor, grain=grain, prefixes=prefixes, date_from=date_from, date_to=date_to, cap=cap)
        if incidents is not None:
            _check_sampled_groups(cursor, incidents=incidents, options=options)


def _check_summary_cells(
    cursor, *, grain: str, prefixes: list[str], date_from: datetime.date | None, date_to: datetime.date | None, cap: int
) -> None:
    cell_where = ["c.grain = %s", "c.figure = ''"] + ["c.path LIKE %s" for _ in prefixes]
    range_where, range_params = _bucket_range("c", date_from, date_to)
    cell_where += range_where
    cell_params = [grain, *prefixes, *range_params]
    cells_sql = f"SELECT 1 FROM casualties_summarycell c WHERE {' AND '.join(cell_where)}"
    cells = _planned_rows(cursor, cells_sql, cell_params)
    if cells > CELL_ESTIMATE_MARGIN * cap:
        raise AggregateTooLarge(cells, cap)
    if cells * CELL_ESTIMATE_MARGIN < cap:
        return
    # Near the cap: count the cells, reading one more than the cap at most, from the index alone.
    # (The setting is put back after: the aggregate runs next in the same transaction.)
    cursor.execute("SELECT current_setting('enable_bitmapscan')")
    [bitmapscan] = cursor.fetchone()
    cursor.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
    cursor.execute(f"SELECT count(*) FROM ({cells_sql} LIMIT %s) cells", [*cell_params, cap + 1])
    [counted] = cursor.fetchone()
    cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [bitmapscan])
    if counted > cap:
        raise AggregateTooLarge(counted, cap, at_least=True)


def _check_sampled_groups(cursor, *, incidents: QuerySet[Incident], options: AggregateOptions) -> None:
    grouping, cap = options.grouping, options.cap
    incidents_sql, incidents_params = incident_rows_sql(incidents)
    region_sql, region_params = grouping.region("i")
    groups_sql = f"""
        SELECT DISTINCT {grouping.bucket("i.date_start")} AS bucket, {region_sql}
          FROM (SELECT * FROM ({incidents_sql}) AS i (id, date_start, path, level) LIMIT %s) i"""
    params = [*region_params, *incidents_params, int(GROUP_SAMPLE_FACTOR * cap)]
    if _planned_rows(cursor, groups_sql, params) <= cap:
        return
    cursor.execute(f"SELECT count(*) FROM ({groups_sql}) groups", params)
    [found] = cursor.fetchone()
    if found > cap:
        raise AggregateTooLarge(found, cap, at_least=True)


def _bucket_range(cell: str, date_from: datetime.date | None, date_to: datetime.date | None) -> tuple[list, list]:
    """The conditions keeping the summary cells aliased ``cell`` whose bucket is in [date_from, date_to]."""
    bounds = [(">=", date_from), ("<=", date_to)]
    return [f"{cell}.bucket {op} %s" for op, day in bounds if day is not None], [d for _, d in bounds if d is not None]


def _planned_rows(cursor, sql: str, params: list) -> int:
    """PostgreSQL's estimate of the rows ``sql`` returns, from its statistics (EXPLAIN: nothing is read)."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    [explained] = cursor.fetchone()
    plan = json.loads(explained) if isinstance(explained, str) else explained
    return int(plan[0]["Plan"]["Plan Rows"])


def _under(region: Region) -> str:
    """A LIKE pattern for the paths of ``region`` and everything under it."""
    return region.path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _summary_grain(interval: str | None, date_from: datetime.date | None, date_to: datetime.date | None) -> str:
    """The coarsest grain of summary cells that lie each inside one bucket of ``interval`` and inside the range."""

    def whole(grain: SummaryGrain) -> bool:
        if grain == SummaryGrain.WEEK:
            return (date_from is None or date_from.isoweekday() == 1) and (date_to is None or date_to.isoweekday() == 7)
        return (date_from is None or date_from.day == 1) and (
            date_to is None or (date_to + datetime.timedelta(days=1)).day == 1
        )

    fits = {
        SummaryGrain.WEEK: interval in (None, Interval.WEEK),
        SummaryGrain.MONTH: interval in (None, Interval.MONTH, Interval.QUARTER, Interval.YEAR),
    }
    for grain in (SummaryGrain.MONTH, SummaryGrain.WEEK):
        if fits[grain] and whole(grain):
            return grain
    return SummaryGrain.DAY


def reported_totals_aggregate(
    *,
    totals: QuerySet[CasualtyTally],
    options: AggregateOptions,
) -> Aggregate:
    """Casualties on the reported-totals basis: the period totals of ``totals`` (give one source's, see
    ``period_totals``), each counted whole.

    Counting rule:
    - A period inside one date bucket goes to it. A period spanning several buckets is split in
      proportion to its days in each; low, best and high are each rounded by largest remainder (ties
      to the earlier bucket), so the parts always add up to the figure. All its parts are returned,
      even those in buckets outside date_from/date_to: a figure is never cut.
    - A total goes to its region's ancestor at ``region_level``; a total for a coarser region goes to a
      row for that region, whose ``region_level`` is smaller than the one asked for.
    - Only the ``group`` asked for; statuses summed only for ``casualty_status="all"``.
    - ``incidents`` and ``incidents_with_figures`` are null: totals are not about incidents.
    - ``fill=(first, last)`` adds a row for every bucket and region group present with null figures: the
      source published no total for it, which is not the same as zero.
    """
    grouping = options.grouping
    inner_sql, inner_params = ids_sql(totals)
    region_sql, region_params = grouping.region()
    if options.interval is None:
        pieces = "SELECT tot.*, NULL::date AS bucket, tot.d1 - tot.d0 AS days FROM tot"
    else:
        pieces = f"""
          SELECT tot.*, b.bucket, LEAST(b.bucket_next, tot.d1) - GREATEST(b.bucket, tot.d0) AS days
            FROM tot CROSS JOIN LATERAL (
              SELECT g::date AS bucket, (g + {grouping.step})::date AS bucket_next
                FROM generate_series({grouping.bucket("tot.d0")}::timestamp, (tot.d1 - 1)::timestamp,
                                     {grouping.step}) AS g
            ) b"""
    parts = ",\n".join(
        f"""{f} * days / span + (row_number() OVER (PARTITION BY id ORDER BY mod({f} * days, span) DESC, bucket)
              <= {f} - sum({f} * days / span) OVER (PARTITION BY id))::integer AS {f}"""
        for f in ("low", "best", "high")
    )
    base_sql = f"""
        tot AS (
          SELECT t.id, lower(t.period) AS d0, upper(t.period) AS d1,
                 (upper(t.period) - lower(t.period))::bigint AS span,
                 t.low::bigint AS low, t.best::bigint AS best, t.high::bigint AS high, {region_sql}
            FROM casualties_casualtytally t JOIN casualties_region r ON r.id = t.region_id
           WHERE t.id IN ({inner_sql}) AND t.period IS NOT NULL
             AND t.outcome = %s AND t.status = ANY(%s) AND t.casualty_group = %s
        ),
        piece AS ({pieces}),
        base AS (
          SELECT bucket, region_code, region_level, NULL::integer AS incidents, NULL::integer AS with_figures,
                 {parts}
            FROM piece
        )"""
    base_params = [*region_params, *inner_params, options.outcome, statuses_of(options.casualty_status), options.group]
    rows = run_grouped(options, base_sql, base_params, fill_values="NULL, NULL, NULL, NULL, NULL")
    return to_aggregate(rows)
