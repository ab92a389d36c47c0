"""What every aggregate shares: its options and limits, the SQL that puts a row into its date bucket and region
group, the join of each incident's figure, and the one statement that groups the rows, sizes them against the cap
and returns them with their total, inside the aggregate's transaction.

The counting rules are in casualties.selectors, which builds each aggregate's rows from these pieces.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connections, transaction
from django.db.models import ForeignObjectRel, OneToOneRel, QuerySet, TextChoices

from core.db_routing import read_alias

from .choices import CasualtyGroup, CasualtyStatus, Outcome
from .models import Incident

# The most rows (buckets x region groups) one aggregate request may produce.
AGGREGATE_ROW_CAP = 100_000

# Settings of the aggregate's transaction: room to group some hundred thousand rows in memory instead of
# sorting them on disk, and no JIT compilation, which costs tens of milliseconds and saves less on queries
# of this size. The benchmarks give the hand-written queries they compare with the same settings.
AGGREGATE_SESSION = {"work_mem": "64MB", "jit": "off"}

ALL_STATUSES = "all"


class Interval(TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "ISO week (Monday to Sunday)"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


# Interval -> (date_trunc unit, step between buckets). Fixed SQL fragments: user input never reaches the SQL text.
_INTERVAL_SQL = {
    Interval.DAY: ("day", "interval '1 day'"),
    Interval.WEEK: ("week", "interval '1 week'"),
    Interval.MONTH: ("month", "interval '1 month'"),
    Interval.QUARTER: ("quarter", "interval '3 months'"),
    Interval.YEAR: ("year", "interval '1 year'"),
}

ROW_FIELDS = (
    "period_start",
    "period_end",
    "region_code",
    "region_name",
    "region_level",
    "incidents",
    "incidents_with_figures",
    "low",
    "best",
    "high",
)
TOTAL_FIELDS = ("incidents", "incidents_with_figures", "low", "best", "high")


# The longest one aggregate statement may run (AGGREGATE_STATEMENT_TIMEOUT); past it the request is refused
# (casualties.api.aggregates: 503).
AGGREGATE_TIME_LIMIT = settings.DATABASE_TIMEOUTS["aggregate"]["statement_timeout"]

NARROW = "narrow date_from/date_to, use a coarser interval or region_level, or filter by region or country."


class AggregateTooLarge(Exception):
    """The request would produce more rows than the cap allows: ``estimated_rows`` of them, or at least that many
    when ``at_least`` (the size was known to exceed the cap before the rows were grouped)."""

    def __init__(self, estimated_rows: int, cap: int, *, at_least: bool = False):
        self.estimated_rows = estimated_rows
        self.cap = cap
        size = f"more than {cap} rows" if at_least else f"about {estimated_rows} rows (cap {cap})"
        super().__init__(f"This request would return {size}: {NARROW}")


class AggregateTimedOut(Exception):
    """The aggregate ran longer than AGGREGATE_TIME_LIMIT and was stopped."""

    def __init__(self):
        super().__init__(
            f"This aggregate took longer than {AGGREGATE_TIME_LIMIT} and was stopped: {NARROW} Aggregates filtered "
            "only by region, country and dates, at region_level 2 or coarser, are answered from sums kept ready."
        )


@dataclass(frozen=True)
class AggregateOptions:
    """How an aggregate groups and what it sums; the same for every basis and every path.

    ``fill=(first, last)`` asks for a row for every bucket of that range (it needs an ``interval``); ``cap`` is the
    most rows the request may produce.
    """

    interval: str | None = None
    region_level: int | None = None
    outcome: str = Outcome.KILLED
    casualty_status: str = CasualtyStatus.CIVILIAN
    group: str = CasualtyGroup.ALL
    fill: tuple[datetime.date, datetime.date] | None = None
    cap: int = AGGREGATE_ROW_CAP

    def __post_init__(self):
        if self.fill is not None and self.interval is None:
            raise ValueError("fill needs an interval")

    @property
    def grouping(self) -> Grouping:
        return Grouping(self.interval, self.region_level)


@dataclass(frozen=True)
class Aggregate:
    """Rows (one per date bucket x region group) and the totals over all of them."""

    results: list[dict]
    totals: dict


@dataclass(frozen=True)
class Grouping:
    """The SQL pieces that put a row into its date bucket and region group."""

    interval: str | None
    region_level: int | None

    def bucket(self, date_sql: str) -> str:
        if self.interval is None:
            return "NULL::date"
        unit, _ = _INTERVAL_SQL[self.interval]
        return f"date_trunc('{unit}', ({date_sql})::timestamp)::date"

    @property
    def step(self) -> str:
        return _INTERVAL_SQL[self.interval][1]

    def region(self, alias: str = "r") -> tuple[str, list]:
        """``region_code, region_level`` of a row whose region's ``path`` and ``level`` are columns of ``alias``:
        the ancestor at the level, or the region itself when it is coarser than the level."""
        if self.region_level is None:
            return "NULL::varchar AS region_code, NULL::integer AS region_level", []
        return (
            f"split_part({alias}.path, '/', LEAST({alias}.level, %s) + 1) AS region_code, "
            f"LEAST({alias}.level, %s) AS region_level",
            [self.region_level, self.region_level],
        )


def statuses_of(casualty_status: str) -> list[str]:
    return list(CasualtyStatus.values) if casualty_status == ALL_STATUSES else [casualty_status]


def figures_join(options: AggregateOptions, *, few: bool = False) -> tuple[str, list]:
    """``LEFT JOIN`` target giving each incident ``i`` its figure ``e`` (low, best, high) for the key asked for;
    ``e.incident_id`` is null when it has none. ``few``: the incidents are few, so look each one's up."""
    outcome, group, statuses = options.outcome, options.group, statuses_of(options.casualty_status)
    if len(statuses) == 1 and not few:
        # At most one estimate per incident, outcome, status and group (a unique key): join it directly.
        return (
            """casualties_estimate e
               ON e.incident_id = i.id AND e.outcome = %s AND e.status = %s AND e.casualty_group = %s""",
            [outcome, statuses[0], group],
        )
    # Added up per incident, so that each incident is still one row: for few incidents, each one's estimates;
    # else one pass over the estimates, joined by hash.
    per_incident, joined = ("incident_id = i.id AND ", "LATERAL") if few else ("", "")
    summed = f"""(
              SELECT incident_id, sum(low) AS low, sum(best) AS best, sum(high) AS high
                FROM casualties_estimate
               WHERE {per_incident}outcome = %s AND status = ANY(%s) AND casualty_group = %s
               GROUP BY incident_id
            )"""
    return f"{joined} {summed} e ON {'true' if few else 'e.incident_id = i.id'}", [outcome, statuses, group]


def with_incident_counts(aggregate: Aggregate) -> Aggregate:
    """Incident counts are never unknown: a row or total without incidents has 0 of them."""
    for row in [*aggregate.results, aggregate.totals]:
        row["incidents"] = row["incidents"] or 0
        row["incidents_with_figures"] = row["incidents_with_figures"] or 0
    return aggregate


def incident_rows_sql(incidents: QuerySet[Incident]) -> tuple[str, tuple]:
    """``id, date_start`` and the region's ``path, level`` of each incident of ``incidents``, once each, as
    parameterised SQL."""
    rows = incidents.order_by().values_list("pk", "date_start", "region__path", "region__level")
    if joins_many(rows.query):
        rows = rows.distinct()  # a join to a to-many relation may repeat an incident
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. .none() or an empty __in list
        return "SELECT NULL::bigint, NULL::date, NULL::varchar, NULL::integer WHERE false", ()


def joins_many(query) -> bool:
    """Whether ``query`` joins a relation that can give several rows per row of its model."""
    return any(
        isinstance(getattr(join, "join_field", None), ForeignObjectRel) and not isinstance(join.join_field, OneToOneRel)
        for join in query.alias_map.values()
    )


def ids_sql(queryset: QuerySet) -> tuple[str, tuple]:
    """The ids of ``queryset`` as parameterised SQL to embed in ``IN (...)``."""
    try:
        return queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. .none() or an empty __in list
        return "SELECT NULL::bigint WHERE false", ()


def run_grouped(options: AggregateOptions, base_sql: str, base_params: list, *, fill_values: str) -> list[tuple]:
    """Group the ``base`` rows (bucket, region_code, region_level, incidents, with_figures, low, best, high)
    into buckets x regions plus a total, in one statement that also sizes the result against the cap.

    ``base`` is read once: one ``GROUPING SETS`` pass gives the rows and the total together. The size is the
    number of grouped rows; with ``fill``, (buckets from the earliest to the latest, widened to the range) x
    (region groups present). When it exceeds the cap the statement returns only the size.
    """
    grouping, fill, cap = options.grouping, options.fill, options.cap
    params = list(base_params)
    bucket_end = "NULL::date" if grouping.interval is None else f"(o.bucket + {grouping.step} - interval '1 day')::date"
    if fill is None:
        sizing, dense = "size AS (SELECT count(*) AS n FROM agg WHERE NOT is_total)", ""
    else:
        if grouping.region_level is None:
            groups = "SELECT NULL::varchar AS region_code, NULL::integer AS region_level"
        else:
            groups = "SELECT DISTINCT region_code, region_level FROM agg WHERE NOT is_total"
        sizing = f"""groups AS ({groups}),
        buckets AS (
          SELECT g::date AS bucket
            FROM (SELECT LEAST(%s::date, min(bucket)) AS lo, GREATEST(%s::date, max(bucket)) AS hi
                    FROM agg WHERE NOT is_total) s,
                 generate_series({grouping.bucket("s.lo")}::timestamp, s.hi::timestamp, {grouping.step}) AS g
        ),
        size AS (SELECT (SELECT count(*) FROM buckets) * (SELECT count(*) FROM groups) AS n)"""
        params += [fill[0], fill[1]]
        dense = f"""
          UNION ALL
          SELECT false, b.bucket, g.region_code, g.region_level, {fill_values}
            FROM buckets b CROSS JOIN groups g
           WHERE NOT EXISTS (
             SELECT 1 FROM agg a
              WHERE NOT a.is_total AND a.bucket = b.bucket AND a.region_code IS NOT DISTINCT FROM g.region_code
           )"""
    sql = f"""
        WITH {base_sql},
        agg AS MATERIALIZED (
          SELECT GROUPING(bucket, region_code, region_level) <> 0 AS is_total, bucket, region_code, region_level,
                 sum(incidents) AS incidents, sum(with_figures) AS with_figures,
                 sum(low) AS low, sum(best) AS best, sum(high) AS high
            FROM base
           GROUP BY GROUPING SETS ((bucket, region_code, region_level), ())
        ),
        {sizing},
        out AS (SELECT * FROM agg {dense})
        -- Only one of the two branches returns rows; the size test is a constant, so when it fails the
        -- first branch returns nothing and only the size comes back.
        SELECT NULL::bigint AS too_many, o.is_total, o.bucket, {bucket_end}, o.region_code, rg.name, o.region_level,
               o.incidents::bigint, o.with_figures::bigint, o.low::bigint, o.best::bigint, o.high::bigint,
               rg.path COLLATE "C" AS region_path  -- codes compare as bytes: the same order, without the locale
          FROM out o LEFT JOIN casualties_region rg ON rg.code = o.region_code
         WHERE (SELECT n FROM size) <= %s
        UNION ALL
        SELECT n, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM size WHERE n > %s
         ORDER BY is_total, bucket, region_path, region_code"""
    params += [cap, cap]
    with aggregate_transaction() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows[0][0] is not None:
        raise AggregateTooLarge(rows[0][0], cap)
    return rows


@contextmanager
def aggregate_transaction() -> Iterator:
    """A cursor in a transaction with the aggregate's settings and its time limit; a statement stopped by the limit
    raises AggregateTimedOut. Inside another one (a size check and the aggregate it admits), the same transaction
    and settings serve both."""
    outer = _in_aggregate_transaction.get()
    if outer is not None:
        with connections[outer].cursor() as cursor:
            yield cursor
        return
    session = {**AGGREGATE_SESSION, "statement_timeout": AGGREGATE_TIME_LIMIT}
    alias = read_alias()  # the hot standby in an API read, when there is one (core.db_routing)
    marked = _in_aggregate_transaction.set(alias)
    try:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            settings_sql = ", ".join("set_config(%s, %s, true)" for _ in session)
            cursor.execute(f"SELECT {settings_sql}", [item for pair in session.items() for item in pair])
            yield cursor
    except OperationalError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise AggregateTimedOut from error
        raise
    finally:
        _in_aggregate_transaction.reset(marked)


# The database of the aggregate's transaction while one is open.
_in_aggregate_transaction: ContextVar[str | None] = ContextVar("in_aggregate_transaction", default=None)


def to_aggregate(rows: list[tuple]) -> Aggregate:
    """The rows of ``run_grouped`` (too_many, is_total, *ROW_FIELDS, region_path) as result and total dicts."""
    # One comprehension: a grid has tens of thousands of rows, and this is per row.
    fields = ROW_FIELDS
    results = [dict(zip(fields, row[2:-1], strict=True)) for row in rows if not row[1]]
    totals = {}
    for row in rows:
        if row[1]:
            total = dict(zip(fields, row[2:-1], strict=True))
            totals = {field: total[field] for field in TOTAL_FIELDS}
    return Aggregate(results=results, totals=totals)
