"""The benchmarks: each service path timed beside PostgreSQL doing the same work on the same data.

Service paths go through Django's test client (the whole request stack but the socket) or through gunicorn
on loopback; the raw side is psycopg on a connection of its own. An endpoint that answers 404 in this
build is reported as not available.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

import psycopg
from django.contrib.auth import get_user_model
from django.test import Client

from casualties.selectors import AGGREGATE_SESSION

from .harness import NOT_AVAILABLE, NotAvailable, Result, median_ms, ratio_result
from .loadtest import load_test
from .server import Gunicorn, stream

AGGREGATE_LIMIT = 1.5
REFUSED_LIMIT_MS = 100.0
DUPLICATES_LIMIT_MS = 100.0
DEEP_PAGE_LIMIT = 1.5
ADMIN_LIMIT_MS = 500.0
EXPORT_THROUGHPUT_FLOOR = 0.8
EXPORT_FIRST_ROW_LIMIT_S = 1.0
EXPORT_MEMORY_LIMIT_MB = 64.0
EXPORT_TIMEOUT = 180  # seconds without a byte before an export counts as failed
DEEP_ROWS = 500_000


@dataclass
class Bench:
    """What every benchmark needs: clients, a raw connection, a server when one is up, and repetitions."""

    repeat: int
    raw: psycopg.Connection
    client: Client = field(default_factory=lambda: Client())
    admin: Client | None = None
    server: Gunicorn | None = None
    samples: dict = field(default_factory=dict)

    def get(self, path: str, *, client: Client | None = None):
        response = (client or self.client).get(path)
        if response.status_code == 404:
            raise NotAvailable(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {_body(response)[:300]!r}")
        return response

    def service_ms(self, path: str, *, client: Client | None = None) -> float:
        self.get(path, client=client)
        return median_ms(lambda: _body(self.get(path, client=client)), repeat=self.repeat)

    def raw_ms(self, *queries: tuple[str, list]) -> float:
        def run() -> None:
            with self.raw.cursor() as cursor:
                for sql, params in queries:
                    cursor.execute(sql, params or None)
                    cursor.fetchall()

        return median_ms(run, repeat=self.repeat)

    @contextmanager
    def aggregate_settings(self) -> Iterator[None]:
        with self.raw.cursor() as cursor:
            for name, value in AGGREGATE_SESSION.items():
                cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        try:
            yield
        finally:
            with self.raw.cursor() as cursor:
                for name in AGGREGATE_SESSION:
                    cursor.execute(f"RESET {name}")

    def fetch(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.raw.cursor() as cursor:
            cursor.execute(sql, params or None)
            return cursor.fetchall()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# -- aggregation ------------------------------------------------------------------------------------

COUNTED = "i.status = 'verified' AND i.duplicate_of_id IS NULL"


def raw_aggregate_sql(interval: str, level: int, where: str = "") -> str:
    """The incident-basis aggregate written by hand: killed civilians, all ages, per bucket and region, with totals.
    Dates are truncated as timestamps (not timestamptz, which would depend on the session's time zone), as the
    service truncates them."""
    return f"""
    SELECT a.*, g.name FROM (
      SELECT date_trunc('{interval}', i.date_start::timestamp)::date AS bucket,
             split_part(r.path, '/', LEAST(r.level, {level}) + 1) AS region_code,
             count(*) AS incidents, count(e.incident_id) AS with_figures,
             sum(e.low) AS low, sum(e.best) AS best, sum(e.high) AS high
        FROM casualties_incident i
        JOIN casualties_region r ON r.id = i.region_id
        LEFT JOIN casualties_estimate e ON e.incident_id = i.id AND e.outcome = 'killed'
             AND e.status = 'civilian' AND e.casualty_group = 'all'
       WHERE {COUNTED} {where}
       GROUP BY GROUPING SETS ((1, 2), ())
    ) a LEFT JOIN casualties_region g ON g.code = a.region_code
    ORDER BY a.bucket, a.region_code"""


def raw_summary_sql(interval: str, level: int, grain: str, where: str = "") -> str:
    """The same aggregate written by hand over the summary cells, which is what the service reads for it."""
    figures = ", ".join(f"sum(c.{f}) FILTER (WHERE c.figure <> '') AS {f}" for f in ("low", "best", "high"))
    return f"""
    SELECT a.*, g.name FROM (
      SELECT date_trunc('{interval}', c.bucket::timestamp)::date AS bucket,
             split_part(c.path, '/', LEAST(c.level, {level}) + 1) AS region_code,
             sum(c.incidents) FILTER (WHERE c.figure = '') AS incidents,
             sum(c.incidents) FILTER (WHERE c.figure <> '') AS with_figures, {figures}
        FROM casualties_summarycell c
       WHERE c.grain = '{grain}' AND c.figure IN ('', 'killed/civilian/all') {where}
       GROUP BY GROUPING SETS ((1, 2), ())
    ) a LEFT JOIN casualties_region g ON g.code = a.region_code
    ORDER BY a.bucket, a.region_code"""


def aggregations(bench: Bench) -> Iterator[Result]:
    """Month x admin1 and by actor within the busiest country; year x country everywhere; week x admin2 in one
    province. (Month x admin1 over the whole world has too many rows for the aggregate's cap.) The first three
    are answered from the summary cells, the one by actor from the incidents."""
    country, country_path = bench.samples["country"]
    province, province_path = bench.samples["province"]
    actor = bench.samples["actor"]
    in_path = "AND r.path LIKE %s"
    by_actor = "AND EXISTS (SELECT 1 FROM casualties_incidentactor x WHERE x.incident_id = i.id AND x.actor_id = %s)"
    cases = [
        (
            f"aggregate month x admin1 in {country}",
            {"interval": "month", "region_level": 1, "country": country},
            (raw_aggregate_sql("month", 1, in_path), [f"{country_path}%"]),
            (raw_summary_sql("month", 1, "month", "AND c.path LIKE %s"), [f"{country_path}%"]),
        ),
        (
            "aggregate year x country",
            {"interval": "year", "region_level": 0},
            (raw_aggregate_sql("year", 0), []),
            (raw_summary_sql("year", 0, "month"), []),
        ),
        (
            f"aggregate week x admin2 in {province}",
            {"interval": "week", "region_level": 2, "region": province},
            (raw_aggregate_sql("week", 2, in_path), [f"{province_path}%"]),
            (raw_summary_sql("week", 2, "week", "AND c.path LIKE %s"), [f"{province_path}%"]),
        ),
        (
            f"aggregate month x admin1 in {country}, one actor",
            {"interval": "month", "region_level": 1, "country": country, "actor": actor},
            (raw_aggregate_sql("month", 1, f"{in_path} {by_actor}"), [f"{country_path}%", actor]),
            None,
        ),
    ]
    for name, params, raw, summary in cases:
        path = f"/api/v1/aggregates/?{urlencode(params)}"
        yield _measured(name, _bound(_aggregate, bench, name, path, raw, summary))


def _aggregate(bench: Bench, name: str, path: str, raw: tuple[str, list], summary: tuple[str, list] | None) -> Result:
    """Served from the summary: compared with the same summary query by hand; from the incidents: with the
    hand-written incident query. Both hand-written queries run, and their totals must be the service's."""
    service = bench.service_ms(path)
    # The hand-written queries run with the settings the service gives its aggregate's transaction.
    with bench.aggregate_settings():
        raw_ms = bench.raw_ms(raw)
        summary_ms = bench.raw_ms(summary) if summary else None
    if summary:
        result = ratio_result(
            name, service=service, raw=summary_ms, limit=AGGREGATE_LIMIT, basis="the same summary query by hand"
        )
        result.baseline = SUMMARY_BASELINE
        result.note = f"from the summary; the incident query by hand: {raw_ms:.1f} ms"
    else:
        result = ratio_result(name, service=service, raw=raw_ms, limit=AGGREGATE_LIMIT, basis="incident query by hand")
        result.baseline = INCIDENT_BASELINE
        result.note = "from the incidents"
    # The same work: the service's totals must be the hand-written query's (and the summary's, when it is read).
    payload = json.loads(_body(bench.get(path)))
    expected = [_totals(bench.fetch(*raw))]
    if summary:
        expected.append(_totals(bench.fetch(*summary)))
    same = all(payload["totals"]["incidents"] == t[2] and payload["totals"]["best"] == t[5] for t in expected)
    result.details = {
        "path": path,
        "rows": len(payload["results"]),
        "same_totals": same,
        "summary_sql_ms": summary_ms,
        "incident_sql_ms": raw_ms,
    }
    if not same:
        result.passed, result.note = False, f"totals differ: {payload['totals']} vs {expected}"
    return result


SUMMARY_BASELINE = (
    "The same GROUP BY GROUPING SETS over the summary cells the service reads, written by hand (same grain, figure, "
    "region cut, timestamp truncation)."
)
INCIDENT_BASELINE = (
    "One hand-written GROUP BY GROUPING SETS over incidents, regions and estimates (timestamp truncation), with the "
    "service's aggregate session settings."
)


def refused_aggregate(bench: Bench) -> Iterator[Result]:
    """A request the service refuses as too large (400): the refusal should come before the work."""
    for name, params in (
        ("aggregate refused as too large: day x admin2 everywhere", {"interval": "day", "region_level": 2}),
        # Answered from the incidents (admin3, a status filter); the summary cells still bound the rows from below.
        ("aggregate refused as too large: day x admin3, status filter", {"interval": "day", "region_level": 3,
                                                                          "status": "verified"}),
        # An actor-role filter: no summary bound, the row groups of a sample of the incidents show the size.
        ("aggregate refused as too large: day x admin3, actor role", {"interval": "day", "region_level": 3,
                                                                       "actor_role": "perpetrator"}),
    ):  # fmt: skip
        yield _measured(name, _bound(_refused, bench, name, f"/api/v1/aggregates/?{urlencode(params)}"))


def _refused(bench: Bench, name: str, path: str) -> Result:
    def request():
        response = bench.client.get(path)
        if response.status_code == 404:
            raise NotAvailable(path)
        return response

    response = request()
    if response.status_code != 400:
        return Result(
            name,
            note=f"not refused at this size (answered {response.status_code})",
            target=f"< {REFUSED_LIMIT_MS:g} ms",
            baseline="No baseline: an absolute time.",
            details={"path": path},
        )
    if b"rows" not in _body(response):
        raise RuntimeError(f"{path} answered 400 for another reason: {_body(response)[:300]!r}")
    service = median_ms(request, repeat=bench.repeat)
    return Result(
        name,
        service=service,
        basis="",
        target=f"< {REFUSED_LIMIT_MS:g} ms",
        passed=service < REFUSED_LIMIT_MS,
        baseline="No baseline: an absolute time for the 400.",
        details={"path": path, "answer": _body(response)[:300].decode(errors="replace")},
    )


def duplicates(bench: Bench) -> Iterator[Result]:
    yield _measured("duplicate hints for one incident", lambda: _duplicates(bench))


def _duplicates(bench: Bench) -> Result:
    """The possible-duplicates query for an incident of the busiest district and month, as the admin page asks
    it; beside the same SQL (captured from the service) run by psycopg."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casualties.duplicates import incident_possible_duplicates
    from casualties.models import Incident
    from casualties.roles import visible_incidents

    from .writes import pick_scene

    scene = pick_scene(bench.raw)
    if not scene.figures:
        raise RuntimeError("no incident in the busiest district and month")
    incident = Incident.objects.select_related("region").get(pk=scene.figures[0][1])

    def run() -> list:
        candidates = visible_incidents(scene.user, Incident.objects.all())
        return incident_possible_duplicates(incident=incident, limit=10, candidates=candidates)

    found = run()
    with CaptureQueriesContext(connection) as captured:
        run()
    queries = [(query["sql"], []) for query in captured.captured_queries]
    service = median_ms(run, repeat=bench.repeat)
    raw = bench.raw_ms(*queries)
    by_hand = bench.fetch(queries[-1][0]) if queries else []
    result = ratio_result(name := "duplicate hints for one incident", service=service, raw=raw, limit=10)
    result.target = f"< {DUPLICATES_LIMIT_MS:g} ms"
    result.passed = service < DUPLICATES_LIMIT_MS
    result.basis = "the same SQL by psycopg"
    result.baseline = "The service's own SQL for the hints (captured), run by psycopg: what the ORM adds."
    result.details = {
        "incident": incident.pk,
        "found": [i.pk for i in found],
        "same_rows": [row[0] for row in by_hand] == [i.pk for i in found],
        "queries": len(queries),
        "name": name,
    }
    return result


def _totals(rows: list[tuple]) -> tuple:
    return next(row for row in rows if row[0] is None and row[1] is None)


# -- incident list, detail, admin -------------------------------------------------------------------

LIST_SQL = """
    SELECT i.*, r.code, r.name, r.level, k.code, d.public_id
      FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
      JOIN casualties_incidenttype k ON k.id = i.incident_type_id
      LEFT JOIN casualties_incident d ON d.id = i.duplicate_of_id
     WHERE {counted} {after}
     ORDER BY i.date_start DESC, i.id DESC LIMIT %s"""
PAGE_PARTS_SQL = [
    """SELECT x.*, a.name FROM casualties_incidentactor x JOIN casualties_actor a ON a.id = x.actor_id
        WHERE x.incident_id = ANY(%s)""",
    "SELECT * FROM casualties_estimate WHERE incident_id = ANY(%s)",
]


LIST_BASELINE = "The page query (counted incidents, newest first, keyset) and its two prefetches, by hand."


def _page_queries(bench: Bench, after: tuple | None, size: int) -> list[tuple[str, list]]:
    """The page query and the two prefetches for it, as the list does them."""
    keyset = "AND (i.date_start, i.id) < (%s, %s)" if after else ""
    sql = LIST_SQL.format(counted=COUNTED, after=keyset)
    params = [*(after or ()), size + 1]
    ids = [row[0] for row in bench.fetch(sql, params)]
    return [(sql, params), *((part, [ids]) for part in PAGE_PARTS_SQL)]


def lists(bench: Bench) -> Iterator[Result]:
    first = "/api/v1/incidents/"
    try:
        page = json.loads(_body(bench.get(first)))
    except NotAvailable:
        yield Result("incident list, first page", note=NOT_AVAILABLE)
        yield Result("incident list, page 500k rows deep", note=NOT_AVAILABLE)
        return
    size = len(page["results"])
    first_ms = bench.service_ms(first)
    result = ratio_result(
        "incident list, first page", service=first_ms, raw=bench.raw_ms(*_page_queries(bench, None, size)), limit=10
    )
    result.passed, result.target = None, ""
    result.baseline = LIST_BASELINE
    yield result
    yield _measured("incident list, page 500k rows deep", lambda: _deep(bench, page, size, first_ms))


def _deep(bench: Bench, page: dict, size: int, first_ms: float) -> Result:
    """A page ``DEEP_ROWS`` rows in (or the last full page of a shorter list), reached by a cursor made for that row."""
    counted = bench.fetch(f"SELECT count(*) FROM casualties_incident i WHERE {COUNTED}")[0][0]
    depth = min(DEEP_ROWS, max(counted - 2 * size, 0))
    row = bench.fetch(
        f"SELECT i.date_start, i.id FROM casualties_incident i WHERE {COUNTED}"
        " ORDER BY i.date_start DESC, i.id DESC OFFSET %s LIMIT 1",
        [depth],
    )[0]
    path = _cursor_path(page["next"], row)
    service = bench.service_ms(path)
    result = ratio_result(
        "incident list, page 500k rows deep" if depth == DEEP_ROWS else f"incident list, page {depth:,} rows deep",
        service=service,
        raw=first_ms,
        limit=DEEP_PAGE_LIMIT,
        basis="first page",
    )
    result.details = {"depth": depth, "raw_sql_ms": bench.raw_ms(*_page_queries(bench, row, size)), "path": path}
    result.baseline = "The service's own first page (the same request without a cursor)."
    return result


def _cursor_path(next_url: str, row: tuple) -> str:
    """The list's own next link with its cursor moved to ``row`` (the cursor is base64 JSON of the sort key)."""
    url = urlparse(next_url)
    query = parse_qs(url.query)
    payload = json.loads(base64.urlsafe_b64decode(query["cursor"][0]))
    if payload.get("o") != ["-date_start", "-id"]:
        raise RuntimeError(f"unexpected list ordering {payload.get('o')}")
    payload["v"] = [row[0].isoformat(), row[1]]
    query["cursor"] = [base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()]
    return f"{url.path}?{urlencode(query, doseq=True)}"


def detail(bench: Bench) -> Iterator[Result]:
    public_id, incident_id = bench.samples["incident"]

    def run() -> Result:
        queries = [
            ("SELECT * FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id"
             " JOIN casualties_incidenttype k ON k.id = i.incident_type_id WHERE i.public_id = %s", [public_id]),
            ("SELECT * FROM casualties_region WHERE code = ANY(string_to_array((SELECT rtrim(path, '/') FROM"
             " casualties_region g JOIN casualties_incident i ON i.region_id = g.id WHERE i.id = %s), '/'))",
             [incident_id]),
            ("SELECT t.*, p.*, s.name FROM casualties_casualtytally t JOIN sources_report p ON p.id = t.report_id"
             " JOIN sources_source s ON s.id = p.source_id WHERE t.incident_id = %s", [incident_id]),
            *((part, [[incident_id]]) for part in PAGE_PARTS_SQL),
        ]  # fmt: skip
        result = ratio_result(
            "incident detail",
            service=bench.service_ms(f"/api/v1/incidents/{public_id}/"),
            raw=bench.raw_ms(*queries),
            limit=10,
        )
        result.passed, result.target = None, ""
        result.baseline = (
            "The incident with region and type, its region chain, figures with reports and sources, actors, estimates."
        )
        return result

    yield _measured("incident detail", run)


ADMIN_LIST_SQL = """
    SELECT i.*, r.*, k.* FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
      JOIN casualties_incidenttype k ON k.id = i.incident_type_id
     ORDER BY i.date_start DESC, i.id DESC LIMIT 50"""
ADMIN_LIST_BASELINE = (
    "The change list's page query (50 incidents with region and type, newest first) and the EXPLAIN its paginator "
    "reads the row estimate from; no count(*), which the admin does not run."
)


def admin_list(bench: Bench) -> Iterator[Result]:
    def run() -> Result:
        path = "/admin/casualties/incident/"
        service = bench.service_ms(path, client=bench.admin)
        raw = bench.raw_ms(
            (ADMIN_LIST_SQL, []),
            ("EXPLAIN (FORMAT JSON) SELECT * FROM casualties_incident", []),
        )
        result = Result(
            "admin incident change list",
            service=service,
            raw=raw,
            basis="page query by hand",
            ratio=service / raw,
            target=f"< {ADMIN_LIMIT_MS:g} ms",
            baseline=ADMIN_LIST_BASELINE,
        )
        result.passed = service < ADMIN_LIMIT_MS
        return result

    yield _measured("admin incident change list", run)


# -- exports and load, through gunicorn ----------------------------------------------------------------


def exports(bench: Bench) -> Iterator[Result]:
    for name, path, export_name in (
        ("CSV export, all incidents", "/api/v1/exports/incidents.csv", "INCIDENTS"),
        ("CSV export, all tallies", "/api/v1/exports/tallies.csv", "TALLIES"),
        ("CSV export, all period totals", "/api/v1/exports/period-totals.csv", "PERIOD_TOTALS"),
    ):
        yield from _measured_many(
            name, lambda path=path, export_name=export_name, name=name: _export(bench, name, path, export_name)
        )


def _export_copy_sql(export_name: str) -> tuple[str, list]:
    """COPY of the export's own SELECT over the same rows, for PostgreSQL alone."""
    from django.contrib.auth.models import AnonymousUser

    from casualties import exports

    export = getattr(exports, export_name)
    anonymous = AnonymousUser()
    if export_name == "INCIDENTS":
        rows = exports.export_incidents(user=anonymous, statuses_requested=False)
    elif export_name == "TALLIES":
        rows = exports.export_tallies(user=anonymous)
    else:
        from casualties.models import CasualtyTally

        rows = CasualtyTally.objects.filter(region__isnull=False, incident__isnull=True)
    sql, params = exports.export_copy_sql(export, rows)
    return sql, list(params)


def _export(bench: Bench, name: str, path: str, export_name: str) -> list[Result]:
    server = bench.server
    status, _ = server.get(f"{path}?date_from=2026-01-01")  # the code paths warm, a few rows
    if status == 404:
        raise NotAvailable(path)
    try:
        streamed = stream(server, path, timeout=EXPORT_TIMEOUT)
    except TimeoutError:
        server.cancel_queries(bench.raw)
        raise RuntimeError(f"{path} sent nothing for {EXPORT_TIMEOUT} s") from None
    if streamed.status != 200:
        raise RuntimeError(f"{path} answered {streamed.status}")
    rows = streamed.rows - 1  # the header
    first_row = Result(
        f"{name}, first data row",
        service=streamed.first_row_seconds * 1000 if streamed.first_row_seconds is not None else None,
        unit="ms",
        basis="",
        target=f"< {EXPORT_FIRST_ROW_LIMIT_S * 1000:g} ms",
        passed=streamed.first_row_seconds is not None and streamed.first_row_seconds < EXPORT_FIRST_ROW_LIMIT_S,
        baseline="No baseline: the time from the request to the end of the first data row (after the header).",
        note=f"headers after {streamed.headers_seconds * 1000:.0f} ms",
        details={"headers_ms": streamed.headers_seconds * 1000,
                 "first_byte_ms": None if streamed.first_byte_seconds is None else streamed.first_byte_seconds * 1000},
    )  # fmt: skip
    results = [first_row]
    try:
        sql, params = _export_copy_sql(export_name)
    except (AttributeError, TypeError) as error:  # the export's internals changed: no like-for-like COPY
        results.append(Result(f"{name} (rows/s)", service=rows / streamed.seconds, unit="rows/s",
                              note=f"no COPY baseline: {error}"[:200]))  # fmt: skip
        sql = None
    if sql is not None:
        started = time.perf_counter()
        copied = 0
        # Under the export's own session settings (no sort: the rows stream in id order), as the service runs it.
        # With the defaults PostgreSQL would sort the whole set before the first row, which the export must not.
        from casualties.exports import apply_export_session

        with bench.raw.transaction(), bench.raw.cursor() as cursor:
            apply_export_session(cursor)
            with cursor.copy(sql, params or None) as copy:
                for block in copy:
                    copied += bytes(block).count(b"\n")
        raw_seconds = time.perf_counter() - started
        service_rate, raw_rate = rows / streamed.seconds, copied / raw_seconds
        throughput = Result(
            f"{name} (rows/s)",
            service=service_rate,
            raw=raw_rate,
            unit="rows/s",
            basis="COPY",
            ratio=service_rate / raw_rate,
            target=f">= {EXPORT_THROUGHPUT_FLOOR}x COPY",
            passed=service_rate / raw_rate >= EXPORT_THROUGHPUT_FLOOR and rows == copied,
            baseline="COPY (the export's own SELECT over the same rows) TO STDOUT under the export's session settings, "
            "read whole by psycopg.",
            details={"rows": rows, "copy_rows": copied, "bytes": streamed.bytes, "seconds": streamed.seconds,
                     "copy_seconds": raw_seconds},
        )  # fmt: skip
        if rows != copied:
            throughput.note = f"{rows} rows served, {copied} copied"
        results.append(throughput)
    memory = Result(
        f"{name}, server memory growth",
        service=streamed.rss_growth_mb,
        raw=streamed.rss_before_mb,
        unit="MB",
        basis="worker RSS before",
        target=f"<= {EXPORT_MEMORY_LIMIT_MB:g} MB growth",
        passed=streamed.rss_growth_mb <= EXPORT_MEMORY_LIMIT_MB,
        baseline="The worker's resident memory before the request.",
        details={"rss_peak_mb": streamed.rss_peak_mb, "bytes": streamed.bytes},
    )
    return [*results, memory]


def load(bench: Bench, *, seconds: int = 10) -> Iterator[Result]:
    public_id, _ = bench.samples["incident"]
    for name, path in (
        (
            f"load: aggregate week x admin2 in {bench.samples['province'][0]}",
            f"/api/v1/aggregates/?interval=week&region_level=2&region={bench.samples['province'][0]}",
        ),
        ("load: incident list", "/api/v1/incidents/"),
        ("load: incident detail", f"/api/v1/incidents/{public_id}/"),
    ):
        status, _ = bench.server.get(path)
        if status == 404:
            yield Result(name, note=NOT_AVAILABLE)
            continue
        outcome = load_test(bench.server, path, seconds=seconds)
        # Requests still running when the test ended must not weigh on the next one.
        bench.server.cancel_queries(bench.raw)
        yield Result(
            name,
            service=outcome.rps,
            unit="req/s",
            basis="",
            target="0 errors",
            baseline="No baseline: requests per second and latency under 8 concurrent clients.",
            passed=outcome.errors == 0 and outcome.requests > 0,
            note=f"p50 {outcome.p50_ms:.1f} / p95 {outcome.p95_ms:.1f} / p99 {outcome.p99_ms:.1f} ms, "
            f"{outcome.errors} errors, {outcome.requests} requests done in {seconds} s ({outcome.tool})",
            details={"p50_ms": outcome.p50_ms, "p95_ms": outcome.p95_ms, "p99_ms": outcome.p99_ms,
                     "errors": outcome.errors, "requests": outcome.requests, "seconds": outcome.seconds,
                     "tool": outcome.tool, "path": path},
        )  # fmt: skip


# -- plumbing ---------------------------------------------------------------------------------------


def _bound(function: Callable, *args) -> Callable[[], object]:
    return lambda: function(*args)


def _measured(name: str, run: Callable[[], Result]) -> Result:
    return _measured_many(name, lambda: [run()])[0]


def _measured_many(name: str, run: Callable[[], list[Result]]) -> list[Result]:
    """The results of ``run``; a missing endpoint or a failure is a line of the table, not the end of the run."""
    try:
        return run()
    except NotAvailable:
        return [Result(name, note=NOT_AVAILABLE)]
    except Exception as error:
        return [Result(name, passed=False, note=f"error: {error}"[:300])]


def pick_samples(bench: Bench) -> None:
    """The busiest province of the busiest country, the busiest actor, and an incident with several figures."""
    bench.samples["country"] = bench.fetch(
        f"""SELECT split_part(r.path, '/', 1), min(split_part(r.path, '/', 1) || '/')
              FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
             WHERE {COUNTED} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""
    )[0]
    bench.samples["province"] = bench.fetch(
        f"""SELECT split_part(r.path, '/', 2) AS code,
                   min(split_part(r.path, '/', 1) || '/' || split_part(r.path, '/', 2) || '/')
              FROM casualties_incident i JOIN casualties_region r ON r.id = i.region_id
             WHERE {COUNTED} AND r.level >= 1 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""
    )[0]
    bench.samples["actor"] = bench.fetch(
        "SELECT actor_id FROM casualties_incidentactor GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )[0][0]
    bench.samples["incident"] = bench.fetch(
        f"""SELECT i.public_id, i.id FROM casualties_incident i
             WHERE {COUNTED} AND (SELECT count(*) FROM casualties_casualtytally t WHERE t.incident_id = i.id) >= 4
             LIMIT 1"""
    )[0]
    user, _ = get_user_model().objects.get_or_create(
        username="benchmark-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    bench.admin = Client()
    bench.admin.force_login(user)
