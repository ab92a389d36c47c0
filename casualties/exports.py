"""CSV exports for researchers: which rows a user may export, and the stream that writes them.

Each export is one SELECT (its columns are in casualties.export_columns) run inside PostgreSQL as
``COPY (...) TO STDOUT`` on a connection of its own, in one REPEATABLE READ READ ONLY transaction. The
SELECT walks its table's primary key, so PostgreSQL sends the first row at once, in a stable order,
without sorting or counting the set first; the process holds one chunk at a time whatever the size. The
number of rows sent and the sha256 of the body are known when the stream ends: the export's receipt
(``receipt_token``) states them then, so a client can tell a complete file from a cut one. The conventions
are those of ``csv_stream`` (UTF-8, header row, RFC 4180 with CRLF, ISO 8601 dates, empty for unknown).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterator, Mapping

import django_filters
import psycopg
from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, connections
from django.db.models import F, Q, QuerySet
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from core.database import role_connection_params
from core.db_routing import PRIMARY, export_servers, read_alias

from .aggregate_sql import joins_many
from .csv_stream import csv_stream
from .export_columns import EXPORTS, INCIDENTS, PERIOD_TOTALS, TALLIES, Column, Export
from .filtersets import CasualtyTallyFilterSet
from .models import CasualtyTally, ExportLog, Incident
from .roles import can_export_unpublished, counted_filter, visible_filter
from .selectors import ids_sql

__all__ = ["EXPORTS", "INCIDENTS", "PERIOD_TOTALS", "TALLIES", "Column", "Export"]

# The header that gives the address of the export's receipt, which states the number of rows sent once the
# stream has ended; the same address is also a ``Link`` with rel="describedby".
RECEIPT_HEADER = "X-Export-Receipt"

# Rows are gathered into chunks of about this many bytes before they are sent.
CHUNK_BYTES = 64 * 1024

# Receipts are addressed by a signed export-log id, so that one client cannot read another's.
RECEIPT_SALT = "casualties.export-receipt"


def exportable_filter(user, *, statuses_requested: bool, prefix: str = "") -> Q:
    """The incidents ``user`` may export, before the query filters, as a filter on ``prefix`` (e.g. ``incident__``).

    Merged duplicates never; without a ``status`` filter only the public set. Beyond that, users with the export
    permission (researchers, reviewers, administrators) export what they may see (casualties.roles); everyone
    else exports the public set only.
    """
    if not statuses_requested or not can_export_unpublished(user):
        return counted_filter(prefix)
    condition = Q(**{f"{prefix}duplicate_of__isnull": True})
    visible = visible_filter(user, prefix)
    return condition if visible is None else condition & visible


def export_incidents(*, user, statuses_requested: bool) -> QuerySet[Incident]:
    """The incidents ``user`` may export (``exportable_filter``)."""
    return Incident.objects.filter(exportable_filter(user, statuses_requested=statuses_requested))


def export_tallies(*, user, tallies: QuerySet[CasualtyTally] | None = None) -> QuerySet[CasualtyTally]:
    """The figures among ``tallies`` (all by default) that ``user`` may export: every period total, and the
    figures of incidents they may export in any status (the ``incident_status`` column tells them apart).

    Written as conditions on each figure's own incident (joined by its key), so that the export reads the
    figures in the order of their primary key and checks each one as it goes, without first collecting the
    ids of the exportable incidents or figures."""
    tallies = CasualtyTally.objects.all() if tallies is None else tallies
    exportable = exportable_filter(user, statuses_requested=True, prefix="incident__")
    return tallies.filter(Q(incident__isnull=True) | exportable)


def export_filename(name: str, params: Mapping[str, str], *, on: datetime.date | None = None) -> str:
    """``incidents_region-SY07_status-verified_2026-11-24.csv``: the export's name, its filters and the date.

    Any CSV download can name its file so (the aggregates' ``format=csv`` included); ``hxl`` and ``format``
    are left out, as they do not change which rows the file holds."""
    parts = [name]
    for key in sorted(params):
        if key in {"hxl", "format"} or not params[key]:
            continue
        value = re.sub(r"[^A-Za-z0-9.-]+", "-", str(params[key])).strip("-")
        parts.append(f"{key}-{value}"[:60])
    parts.append((on or timezone.now().date()).isoformat())
    return "_".join(parts)[:200] + ".csv"


# Names the export's own connections in pg_stat_activity, for operators and for the tests.
EXPORT_APPLICATION_NAME = "casualties-export"


# Settings of the export's transaction. ``enable_sort`` off: the rows leave in the order of the table's primary
# key, read from its index, so PostgreSQL sends the first row at once instead of sorting the whole set first
# (each joined row is looked up per row, by index); a test EXPLAINs every export under these settings and finds
# no sort. ``jit`` off: compiling the SELECT's expressions would delay the first row and gains nothing here.
EXPORT_SESSION = {"enable_sort": "off", "jit": "off", "TimeZone": "UTC", "DateStyle": "ISO, YMD"}


def _connect() -> tuple[psycopg.Connection, int, datetime.datetime]:
    """A connection of its own, with the export's time limits, so the stream outlives the request's transaction
    handling; with its session's pid and start (pg_stat_activity), by which ``export_logs_settle`` tells a running
    export from a dead one. An API export reads the hot standby when there is one (core.db_routing)."""
    params = {
        **role_connection_params(connections[read_alias()].get_connection_params(), "export"),
        "application_name": EXPORT_APPLICATION_NAME,
    }
    conn = psycopg.connect(**params, autocommit=True)
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        apply_export_session(conn.cursor())
        pid, started = conn.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
    except BaseException:
        conn.close()
        raise
    return conn, pid, started


def export_logs_settle(*, log_ids: list[int] | None = None) -> int:
    """Mark ``failed`` the exports (these, or all) still ``started`` whose database session is gone; returns how many.

    An export streams from a database session of its own, open from before its log row is written until after
    its end is recorded. A worker killed mid-export (SIGKILL, out of memory, a machine lost) records nothing,
    but its session ends with it: a ``started`` row whose session (pid and start time, so a reused pid is not
    mistaken for it) no longer exists will never finish. No clock is involved, so a slow download is never
    taken for a dead one."""
    live = export_sessions()
    if live is None:
        return 0  # a server an export may stream from does not answer: whether its exports live is unknown
    pids, starts = [pid for pid, _ in live], [start for _, start in live]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE casualties_exportlog AS log SET status = %s, finished_at = now()
             WHERE log.status = %s AND (%s::bigint[] IS NULL OR log.id = ANY(%s::bigint[]))
               AND NOT EXISTS (SELECT 1 FROM unnest(%s::int[], %s::timestamptz[]) AS a(pid, backend_start)
                                WHERE a.pid = log.backend_pid
                                  AND (a.backend_start IS NULL OR a.backend_start = log.backend_started_at))
            """,
            [ExportLog.Status.FAILED, ExportLog.Status.STARTED, log_ids, log_ids, pids, starts],
        )
        return cursor.rowcount


def export_sessions() -> list[tuple[int, datetime.datetime]] | None:
    """The sessions open now (pid, start) on every server exports stream from (the primary, and the hot standby
    when there is one), or None when one of them does not answer. PostgreSQL shows the start of a session of
    another login only to privileged roles: such a session's start is None, and its pid alone keeps an export
    alive (a pid reused meanwhile can only keep a dead export ``started``, never fail a live one)."""
    sessions = []
    for alias in export_servers():
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # the sessions as they are now, even in a transaction
                cursor.execute("SELECT pid, backend_start FROM pg_stat_activity")
                sessions += cursor.fetchall()
        except DatabaseError:
            if alias == PRIMARY:
                raise
            connections[alias].close()
            return None
    return sessions


def apply_export_session(cursor) -> None:
    """Give the current transaction the export's settings (EXPORT_SESSION)."""
    settings_sql = ", ".join("set_config(%s, %s, true)" for _ in EXPORT_SESSION)
    cursor.execute(f"SELECT {settings_sql}", [item for pair in EXPORT_SESSION.items() for item in pair])


def export_copy_sql(export: Export, queryset: QuerySet) -> tuple[str, tuple]:
    """``COPY (<the export's SELECT of the rows of queryset>) TO STDOUT`` as CSV, and its parameters."""
    rows_sql, params = export_rows_sql(export, queryset)
    return f"COPY ({export.select_sql(rows_sql)}) TO STDOUT WITH (FORMAT csv, HEADER false)", params


def export_rows_sql(export: Export, queryset: QuerySet) -> tuple[str, tuple]:
    """Every column of the rows of ``queryset``, each row once, as parameterised SQL."""
    # Named by their database columns, as the export's SQL names them.
    fields = export.model._meta.concrete_fields
    same = [field.attname for field in fields if field.attname == field.column]
    renamed = {field.column: F(field.attname) for field in fields if field.attname != field.column}
    rows = queryset.order_by().values(*same, **renamed)
    if joins_many(rows.query):  # a row could come more than once: select the rows by their ids instead
        inner_sql, params = ids_sql(queryset)
        return f"SELECT * FROM {export.model._meta.db_table} WHERE id IN ({inner_sql})", params
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. .none() or an empty __in list
        return f"SELECT * FROM {export.model._meta.db_table} WHERE false", ()


class ExportStream:
    """The bytes of one export, read from one snapshot; ``rows_sent``, ``bytes_sent`` and the sha256 of the bytes
    count what has left.

    Give it to a StreamingHttpResponse: the response closes it when the client has read everything or
    went away, and the export log then says completed (with the row count and the digest) or cut.
    """

    def __init__(self, *, export: Export, queryset: QuerySet, hxl: bool, log: ExportLog | None = None):
        self.export = export
        self.hxl = hxl
        self.log = log
        self.rows_sent = self.bytes_sent = 0
        self._digest = hashlib.sha256()
        self._copy_sql, self._params = export_copy_sql(export, queryset)
        self._conn, self.backend_pid, self.backend_started_at = _connect()
        self._chunks = self._generate()
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def _counted(self, chunk: bytes, rows: int) -> bytes:
        self.rows_sent += rows
        self.bytes_sent += len(chunk)
        self._digest.update(chunk)
        return chunk

    def _generate(self) -> Iterator[bytes]:
        try:
            extra = [self.export.hxl] if self.hxl else []
            yield self._counted("".join(csv_stream(self.export.header, [], extra_header_rows=extra)).encode(), 0)
            with self._conn.cursor().copy(self._copy_sql, self._params or None) as copy:
                # Each read is one whole record, which PostgreSQL ends with LF; RFC 4180 wants CRLF. The records
                # of a chunk are joined once, without their LF, by CRLF: this loop runs for every row, so it
                # does as little as it can per row.
                read, records, size = copy.read, [], 0
                while record := read():
                    records.append(record[:-1])
                    size += len(record)
                    if size >= CHUNK_BYTES:
                        yield self._counted(b"\r\n".join(records) + b"\r\n", len(records))
                        records, size = [], 0
            last = self._counted(b"\r\n".join(records) + b"\r\n" if records else b"", len(records))
            # Recorded before the last chunk leaves: a client that has read the whole file finds the receipt
            # complete.
            self._finish(ExportLog.Status.COMPLETED)
            if last:
                yield last
        except GeneratorExit:
            self._finish(ExportLog.Status.CUT)
            raise
        except Exception:
            self._finish(ExportLog.Status.FAILED)
            raise

    def close(self) -> None:
        self._chunks.close()
        self._finish(ExportLog.Status.CUT)

    def _finish(self, status: str) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            if self.log is not None:
                # The count and digest are known only for a complete export: a cut one sent part of an unknown whole.
                completed = status == ExportLog.Status.COMPLETED
                ExportLog.objects.filter(pk=self.log.pk).update(
                    status=status,
                    rows_sent=self.rows_sent,
                    bytes_sent=self.bytes_sent,
                    row_count=self.rows_sent if completed else None,
                    sha256=self._digest.hexdigest() if completed else "",
                    finished_at=timezone.now(),
                )
        finally:
            # Closed after the end is recorded: while this session lives, the export counts as running.
            self._conn.close()


def receipt_token(log: ExportLog) -> str:
    return signing.dumps(log.pk, salt=RECEIPT_SALT)


def export_for_receipt(token: str) -> ExportLog | None:
    """The export a receipt token names, or None for a token this server did not sign."""
    try:
        pk = signing.loads(token, salt=RECEIPT_SALT)
    except signing.BadSignature:
        return None
    return ExportLog.objects.filter(pk=pk).first()


class PeriodTotalFilterSet(CasualtyTallyFilterSet):
    """The figure filters, plus the reporting period: totals whose period overlaps [date_from, date_to]."""

    date_from = django_filters.DateFilter(
        field_name="reporting_period__date_end",
        lookup_expr="gte",
        help_text="Only totals whose period reaches this day (YYYY-MM-DD).",
    )
    date_to = django_filters.DateFilter(
        field_name="reporting_period__date_start",
        lookup_expr="lte",
        help_text="Only totals whose period begins by this day (YYYY-MM-DD).",
    )


def query_dict(params) -> dict:
    """Query parameters as JSON for the export log: a list only where a parameter was repeated."""
    return {key: values if len(values) > 1 else values[0] for key, values in params.lists()}


def export_response(
    *, request, export: Export, queryset: QuerySet, params, hxl: bool, via: str = "api"
) -> StreamingHttpResponse:
    """Stream ``export`` of the rows of ``queryset`` as an attachment, log it, and name its receipt."""
    export_logs_settle()  # exports left behind by a killed worker read as failed from now on
    logged = {
        "user": request.user if request.user.is_authenticated else None,
        "endpoint": export.name,
        "via": via,
        "query": query_dict(params),
    }
    try:
        stream = ExportStream(export=export, queryset=queryset, hxl=hxl)
    except Exception:
        ExportLog.objects.create(**logged, status=ExportLog.Status.FAILED, finished_at=timezone.now())
        raise
    try:
        # Written once its session is open, naming it: from the start, a dead session means a dead export.
        log = stream.log = ExportLog.objects.create(
            **logged, backend_pid=stream.backend_pid, backend_started_at=stream.backend_started_at
        )
    except BaseException:
        stream.close()
        raise
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8; header=present")
    filename = export_filename(export.name, {key: ",".join(values) for key, values in params.lists()})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    receipt = request.build_absolute_uri(reverse("export-receipt", args=[receipt_token(log)]))
    response[RECEIPT_HEADER] = receipt
    response["Link"] = f'<{receipt}>; rel="describedby"; type="application/json"'
    response["Cache-Control"] = "no-store"
    # Proxies must pass chunks on as they come rather than buffer the whole file.
    response["X-Accel-Buffering"] = "no"
    return response
