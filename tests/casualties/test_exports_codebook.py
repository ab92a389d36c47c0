"""docs/codebook.md documents exactly the columns each export emits, in order, with their types and HXL tags."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings

from casualties.exports import EXPORTS

CODEBOOK = Path(settings.BASE_DIR) / "docs" / "codebook.md"
ROW = re.compile(r"^\| (\d+) \| `([^`]+)` \| ([^|]+) \| `([^`]+)` \| (.+) \|$")


def documented(export_name: str) -> list[tuple[str, str, str]]:
    """(column, type, HXL tag) of the table under "## <export>.csv" in the codebook."""
    section = CODEBOOK.read_text().split(f"\n## {export_name}.csv\n", 1)[1].split("\n## ", 1)[0]
    rows = [ROW.match(line) for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert all(rows), "every table row has a number, a column, a type, an HXL tag and a meaning"
    assert [int(row[1]) for row in rows] == list(range(1, len(rows) + 1))
    return [(row[2], row[3].strip(), row[4]) for row in rows]


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_codebook_lists_every_column_of_the_export_in_order_with_type_and_hxl_tag(name):
    export = EXPORTS[name]
    assert documented(name) == [(c.name, c.type, c.hxl) for c in export.columns]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_codebook_lists_exactly_the_columns_the_endpoint_emits(api_client, name):
    response = api_client.get(f"/api/v1/exports/{name}.csv", {"hxl": "1"})

    assert response.status_code == 200
    header, hashtags = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert [(column, tag) for column, _type, tag in documented(name)] == list(zip(header, hashtags, strict=True))


def test_every_column_name_is_unique_and_safe_for_r_stata_and_sql():
    for export in EXPORTS.values():
        names = export.header
        assert len(set(names)) == len(names)
        assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,31}", n) for n in names), names
