"""CSV as every download of the project writes it.

UTF-8, RFC 4180 (comma separated, CRLF line ends, quotes only where needed), a header row, ISO dates,
and an empty cell for an unknown value (never 0). Rows are produced one at a time, so a download
of any size is written in constant memory.
"""

import csv
import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence


class _Echo:
    """A file-like object that hands back what csv.writer writes, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as text, never evaluated
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def csv_stream(
    columns: Sequence[str], rows: Iterable[Mapping], *, extra_header_rows: Iterable[Sequence[str]] = ()
) -> Iterator[str]:
    """The lines of a CSV file: the header ``columns``, any ``extra_header_rows`` (e.g. HXL hashtags),
    then one line per row with the values of ``columns`` in that order. Text that a spreadsheet would take
    for a formula gets a leading apostrophe; numbers and dates are written as they are."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(columns)
    for header in extra_header_rows:
        yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(row.get(column)) for column in columns])
