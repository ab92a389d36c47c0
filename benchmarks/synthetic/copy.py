"""Bulk loading with COPY, triggers off for the loading transaction only."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

NULL = r"\N"


class LoadError(Exception):
    pass


def copy_text(value: str) -> str:
    """A string as a field of COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def timestamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


@contextmanager
def triggers_off(cursor) -> Iterator[None]:
    """No trigger fires (audit, copies, estimates) and no foreign key is checked until the block ends.

    ``SET LOCAL``: even if the block fails, the setting ends with the transaction (or savepoint).
    """
    try:
        cursor.execute("SET LOCAL session_replication_role = replica")
    except Exception as error:  # only a superuser may skip triggers
        raise LoadError(f"Cannot switch triggers off for the load (it needs a superuser): {error}") from error
    yield
    cursor.execute("SET LOCAL session_replication_role = origin")


def new_ids(cursor, table: str, count: int) -> list[int]:
    """``count`` ids from the table's own sequence, so rows loaded later can refer to them."""
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return [row[0] for row in cursor.fetchall()]


def reserve_ids(cursor, table: str, count: int) -> int:
    """The first of ``count`` consecutive ids taken from the table's sequence (the caller locks the table)."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    if count > 1:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def copy_rows(cursor, table: str, columns: str, data: bytes) -> None:
    """COPY ``data``, lines of tab-separated fields in COPY's text format, into ``table``."""
    if not data:
        return
    # Table and column names are constants of this package, never input.
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(data)


@contextmanager
def indexes_dropped(cursor, tables: tuple[str, ...]) -> Iterator[None]:
    """Drop the tables' plain indexes (not those behind a primary key or constraint) and build them again after.

    For a bulk load one build per index is much faster than keeping each up to date row by row; unique
    indexes are checked when rebuilt. Inside the load's transaction, so a failure restores them.
    """
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1""",
        [list(tables)],
    )
    definitions = cursor.fetchall()
    for name, _ in definitions:
        cursor.execute(f"DROP INDEX {name}")  # regclass text: already quoted where needed
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for _, definition in definitions:
        cursor.execute(definition)
