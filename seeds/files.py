"""Reading the data files: UTF-8 CSV with a header row, and YAML."""

import csv
from pathlib import Path
from typing import Any

import yaml

from .sync import SeedDataError

DATA_DIR = Path(__file__).resolve().parent / "data"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def pick(*, entry: dict, fields: tuple[str, ...], nested: tuple[str, ...] = ()) -> dict[str, Any]:
    """The entry's values for exactly these fields; a missing or unexpected key is a data-file error."""
    extra = set(entry) - set(fields) - set(nested)
    missing = set(fields) - set(entry)
    if extra or missing:
        label = entry.get("name") or entry.get("code") or entry.get("title") or entry
        raise SeedDataError(f"{label}: unexpected keys {sorted(extra)}, missing keys {sorted(missing)}")
    return {name: entry[name] for name in fields}
