"""Frozen SQL for migrations: each migration runs the text it was written with, never today's file.

``casualties/sql/`` holds the current definitions that developers edit; a change there needs a new
migration that freezes a copy of the new text under ``migrations/sql/NNNN_<name>.sql`` with its sha256.
tests/casualties/test_sql_definitions.py fails while the installed definitions differ from the files.
"""

import hashlib
from pathlib import Path

FROZEN_DIR = Path(__file__).resolve().parent / "sql"


def frozen_sql(name: str, sha256: str) -> str:
    """The text of a frozen SQL file, refused if it was edited after its migration was written."""
    text = (FROZEN_DIR / name).read_text()
    actual = hashlib.sha256(text.encode()).hexdigest()
    if actual != sha256:
        raise RuntimeError(
            f"casualties/migrations/sql/{name} was edited after its migration was written (sha256 {actual}, "
            f"expected {sha256}). Frozen SQL never changes: put the new text in a new migration."
        )
    return text
