"""Load synthetic data into the real tables, and remove it again."""

from __future__ import annotations

import datetime
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty

from django.db import connection, transaction
from django.utils import timezone

from casualties.services import summary_rebuild

from .checks import synthetic_check
from .copy import NULL, LoadError, copy_rows, copy_text, indexes_dropped, new_ids, reserve_ids, timestamp, triggers_off
from .rows import FIRST_DAY, Figure, RowMaker, figure_line, report_line
from .totals import period_label, period_spans, period_totals
from .world import NoReferenceData, World, world_load

CHUNK = 5_000
BULK_FROM = 50_000
# Tables whose plain indexes a bulk load builds after loading (estimates keep theirs: the upkeep reads them).
INDEXED_LATER = ("sources_report", "casualties_incident", "casualties_incidentactor", "casualties_casualtytally")
INCIDENT_COLUMNS = (
    "id, public_id, title, description, date_start, date_end, date_precision, region_id, place_name, latitude, "
    "longitude, location_precision, incident_type_id, status, duplicate_of_id, external_id, version, "
    "reviewed_at, created_at, updated_at"
)
TALLY_COLUMNS = (
    "report_id, source_id, incident_id, region_id, reporting_period_id, period, outcome, status, casualty_group, "
    "low, best, high, qualifier, reported_phrase, is_preferred, notes, created_at, updated_at"
)
REPORT_COLUMNS = (
    "id, source_id, title, url, archive_url, published_on, language, external_id, summary, credibility, "
    "created_at, updated_at"
)
COLUMNS = {
    "sources_report": REPORT_COLUMNS,
    "casualties_incident": INCIDENT_COLUMNS,
    "casualties_incidentactor": "role, actor_id, incident_id",
    "casualties_casualtytally": TALLY_COLUMNS,
}
ESTIMATES_CHUNK = 20_000
LOADED_TABLES = (
    "sources_report",
    "casualties_incident",
    "casualties_incidentactor",
    "casualties_casualtytally",
    "casualties_estimate",
    "casualties_reportingperiod",
    "casualties_summarycell",
    "casualties_region",  # loaded just before by the seed, maybe not analyzed yet: plans join through it
)
SYNTHETIC_INCIDENTS = (
    "SELECT id FROM casualties_incident WHERE external_id LIKE 'synthetic-%' AND title LIKE '[synthetic] %'"
)
SYNTHETIC_REPORTS = "SELECT id FROM sources_report WHERE external_id LIKE 'synthetic-%' AND title LIKE '[synthetic] %'"
SYNTHETIC_PERIODS = "SELECT id FROM casualties_reportingperiod WHERE label LIKE '[synthetic] %'"


class SyntheticDataError(Exception):
    """Reference data missing, synthetic rows already there, or generated rows breaking an invariant."""


@dataclass
class SyntheticResult:
    incidents: int = 0
    reports: int = 0
    tallies: int = 0
    period_totals: int = 0
    incident_actors: int = 0
    checks: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, count: int) -> None:
        if table == "sources_report":
            self.reports += count
        elif table == "casualties_incident":
            self.incidents += count
        elif table == "casualties_incidentactor":
            self.incident_actors += count
        else:
            self.tallies += count


class _Maker:
    """Turns the random stream into COPY data, chunk by chunk; touches no database, so it can run in a process
    of its own while the database takes the previous chunk.

    Incident ids come from a block reserved up front; a report's id is a function of its source and day inside
    another reserved block (one report per source and day, many never used); new reporting periods are given
    ids before the start. So making rows needs no round trip.
    """

    def __init__(self, *, world: World, maker: RowMaker, report_base: int):
        self.world, self.maker, self.report_base = world, maker, report_base
        self.days = (world.today - FIRST_DAY).days + 1
        self.reports_made: set[tuple[int, datetime.date]] = set()

    def report_id(self, report: tuple[int, datetime.date]) -> int:
        index, published_on = report
        return self.report_base + index * self.days + (published_on - FIRST_DAY).days

    def report_lines(self, figures: list[Figure]) -> list[str]:
        """Lines for the reports these figures cite that no earlier chunk made."""
        lines = []
        for report in dict.fromkeys(f.report for f in figures):
            if report not in self.reports_made:
                self.reports_made.add(report)
                index, published_on = report
                source = self.world.sources[index]
                lines.append(
                    report_line(
                        self.report_id(report),
                        source_id=source.id,
                        source_index=index,
                        source_name=source.name,
                        published_on=published_on,
                    )
                )
        return lines

    def tally(self, figure: Figure, *, target: str, created: str) -> str:
        source_id = self.world.sources[figure.report[0]].id
        return figure_line(
            figure, report_id=self.report_id(figure.report), source_id=source_id, target=target, created=created
        )

    def incidents(self, ids: list[int], first_id: int) -> dict[str, list[str]]:
        incident_lines, actor_lines, tallies, cited = [], [], [], []
        for incident_id in ids:
            line, actors, figures, created = self.maker.incident(incident_id, first_id)
            incident_lines.append(line)
            actor_lines.extend(actors)
            target = f"{incident_id}\t{NULL}\t{NULL}\t{NULL}"
            tallies.extend(self.tally(f, target=target, created=created) for f in figures)
            cited.extend(figures)
        return {
            "sources_report": self.report_lines(cited),
            "casualties_incident": incident_lines,
            "casualties_incidentactor": actor_lines,
            "casualties_casualtytally": tallies,
        }

    def period_totals(self) -> dict[str, list[str]]:
        totals = list(period_totals(self.world, self.maker.rng))
        periods = self.world.periods
        tallies = [
            self.tally(
                t.figure,
                target=f"{NULL}\t{t.region_id}\t{periods[(t.start, t.end)]}\t[{t.start},{t.end}]",
                created=f"{t.figure.report[1]} 12:00:00+00",
            )
            for t in totals
        ]
        return {"sources_report": self.report_lines([t.figure for t in totals]), "casualties_casualtytally": tallies}

    def run(self, chunks: list[list[int]], queue) -> None:
        """Put each chunk's data on ``queue`` (incident chunks, then the period totals), then None."""
        try:
            for ids in chunks:
                queue.put(("incidents", _encode(self.incidents(ids, chunks[0][0]))))
            queue.put(("period totals", _encode(self.period_totals())))
            queue.put(None)
        except BaseException as error:  # the loading process must learn of it, not wait forever
            queue.put(("error", repr(error)))
            raise


def _encode(lines: dict[str, list[str]]) -> dict[str, tuple[int, bytes]]:
    return {table: (len(table_lines), "".join(table_lines).encode()) for table, table_lines in lines.items()}


def _load(cursor, *, maker: _Maker, chunks: list[list[int]], result: SyntheticResult, on_progress) -> None:
    """Write what ``maker`` makes in a child process, as it comes."""
    queue = multiprocessing.get_context("fork").Queue(maxsize=3)
    child = multiprocessing.get_context("fork").Process(target=maker.run, args=(chunks, queue), daemon=True)
    child.start()
    try:
        while True:
            try:
                item = queue.get(timeout=5)
            except Empty:
                if not child.is_alive():
                    raise SyntheticDataError("The row maker stopped without a word.") from None
                continue
            if item is None:
                break
            kind, payload = item
            if kind == "error":
                raise SyntheticDataError(f"Making rows failed: {payload}")
            for table, (count, data) in payload.items():
                copy_rows(cursor, table, COLUMNS[table], data)
                result.add(table, count)
            if kind == "period totals":
                result.period_totals += payload["casualties_casualtytally"][0]
            if kind == "incidents":
                on_progress(payload["casualties_incident"][0])
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()


def _new_periods(cursor, world: World, now: datetime.datetime) -> None:
    """Create the reporting periods the period totals need that do not exist yet (labelled synthetic)."""
    needed = [span for span in period_spans(world.today) if span not in world.periods]
    lines = []
    for period_id, (start, end) in zip(new_ids(cursor, "casualties_reportingperiod", len(needed)), needed, strict=True):
        world.periods[(start, end)] = period_id
        label = copy_text(f"[synthetic] {period_label(start, end)}")
        lines.append(f"{period_id}\t{start}\t{end}\t{label}\t{timestamp(now)}\n")
    copy_rows(
        cursor, "casualties_reportingperiod", "id, date_start, date_end, label, updated_at", "".join(lines).encode()
    )


def _estimates(cursor, chunks: list[list[int]]) -> None:
    """What the statement-level tally triggers would have done, by the function they call."""
    ids = [incident_id for chunk in chunks for incident_id in chunk]
    for start in range(0, len(ids), ESTIMATES_CHUNK):
        cursor.execute("SELECT casualties_refresh_estimates(%s::bigint[])", [ids[start : start + ESTIMATES_CHUNK]])


def synthetic_generate(
    *,
    incidents: int,
    seed: int,
    chunk: int = CHUNK,
    rebuild_indexes: bool | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> SyntheticResult:
    """Load ``incidents`` synthetic incidents with their reports, figures and actors, plus period totals.

    One transaction: the rows, their estimates and the invariant checks; if any check fails, nothing is kept.
    ``rebuild_indexes`` (by default from 50,000 incidents) drops the loaded tables' plain indexes for the
    load and builds them after; the tables are locked for the whole transaction either way.
    """
    if incidents < 0:
        raise SyntheticDataError("The number of incidents cannot be negative.")
    if rebuild_indexes is None:
        rebuild_indexes = incidents >= BULK_FROM
    stage = on_stage or (lambda name: None)
    # Times are capped at the start of today, not at this instant, so a seed gives the same rows all day.
    now = datetime.datetime.combine(timezone.now().date(), datetime.time.min, tzinfo=datetime.UTC)
    result = SyntheticResult()
    with transaction.atomic(), connection.cursor() as cursor:
        if synthetic_count(cursor) or _exists(cursor, SYNTHETIC_REPORTS):
            raise SyntheticDataError("Synthetic data is already loaded: remove it first (--delete).")
        try:
            world = world_load(cursor, seed=seed, today=now.date())
        except NoReferenceData as error:
            raise SyntheticDataError(str(error)) from error
        # Room to sort and hash in memory for the estimates and the checks, for this transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Nobody else may take ids from the blocks reserved below.
        cursor.execute(f"LOCK TABLE {', '.join(INDEXED_LATER)} IN SHARE ROW EXCLUSIVE MODE")
        first = reserve_ids(cursor, "casualties_incident", incidents)
        chunks = [list(range(first + s, first + min(s + chunk, incidents))) for s in range(0, incidents, chunk)]
        days = (world.today - FIRST_DAY).days + 1
        maker = _Maker(
            world=world,
            maker=RowMaker(world=world, seed=seed, now=now),
            report_base=reserve_ids(cursor, "sources_report", len(world.sources) * days),
        )
        try:
            with triggers_off(cursor):
                with indexes_dropped(cursor, INDEXED_LATER if rebuild_indexes else ()):
                    _new_periods(cursor, world, now)
                    _load(
                        cursor, maker=maker, chunks=chunks, result=result, on_progress=on_progress or (lambda n: None)
                    )
                    stage("indexes")
                stage("estimates")
                _estimates(cursor, chunks)
        except LoadError as error:
            raise SyntheticDataError(str(error)) from error
        stage("summary")
        summary_rebuild()
        stage("statistics")
        analyze()
        stage("checks")
        # The summary was just computed from the rows checked here: comparing it with itself would prove nothing.
        result.checks = synthetic_check(summary=False)
        broken = {name: count for name, count in result.checks.items() if count}
        if broken:
            raise SyntheticDataError(f"The generated rows break invariants, nothing was kept: {broken}")
    return result


def synthetic_count(cursor=None) -> int:
    """The number of synthetic incidents in the database."""
    if cursor is None:
        with connection.cursor() as own:
            return synthetic_count(own)
    cursor.execute(f"SELECT count(*) FROM ({SYNTHETIC_INCIDENTS}) s")
    return cursor.fetchone()[0]


def _exists(cursor, sql: str) -> bool:
    cursor.execute(f"SELECT EXISTS ({sql})")
    return cursor.fetchone()[0]


def synthetic_delete() -> dict[str, int]:
    """Remove every synthetic row (incidents with their figures, estimates and actors; reports; unused periods).

    Triggers are off as for the load, so the removal writes no audit events and no removal records,
    as the load wrote none. Refused if real data refers to synthetic rows.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT (SELECT count(*) FROM casualties_incident WHERE duplicate_of_id IN ({SYNTHETIC_INCIDENTS})
                          AND id NOT IN ({SYNTHETIC_INCIDENTS}))
                     + (SELECT count(*) FROM casualties_casualtytally WHERE report_id IN ({SYNTHETIC_REPORTS})
                          AND incident_id IS NOT NULL AND incident_id NOT IN ({SYNTHETIC_INCIDENTS}))"""
        )
        if cursor.fetchone()[0]:
            raise SyntheticDataError("Real incidents or figures refer to synthetic rows; nothing was removed.")
        deleted = {}
        statements = {
            "estimates": f"DELETE FROM casualties_estimate WHERE incident_id IN ({SYNTHETIC_INCIDENTS})",
            "incident actors": f"DELETE FROM casualties_incidentactor WHERE incident_id IN ({SYNTHETIC_INCIDENTS})",
            "tallies": f"""DELETE FROM casualties_casualtytally WHERE incident_id IN ({SYNTHETIC_INCIDENTS})
                             OR report_id IN ({SYNTHETIC_REPORTS})""",
            "incidents": f"DELETE FROM casualties_incident WHERE id IN ({SYNTHETIC_INCIDENTS})",
            "reports": f"DELETE FROM sources_report WHERE id IN ({SYNTHETIC_REPORTS})",
            "reporting periods": f"""DELETE FROM casualties_reportingperiod p WHERE id IN ({SYNTHETIC_PERIODS})
                                       AND NOT EXISTS (SELECT 1 FROM casualties_casualtytally t
                                                        WHERE t.reporting_period_id = p.id)""",
        }
        with triggers_off(cursor):
            for name, sql in statements.items():
                cursor.execute(sql)
                deleted[name] = cursor.rowcount
        summary_rebuild()
    analyze()
    return deleted


def analyze() -> None:
    """Fresh planner statistics: a bulk load changes the tables' shape at once."""
    with connection.cursor() as cursor:
        for table in LOADED_TABLES:
            cursor.execute(f"ANALYZE {table}")
