"""Writing data-file rows to a table idempotently: create what is missing, update what differs, touch nothing else.

Every model is audited by database triggers, so a row saved with the values it already had would still
cost an UPDATE (and, where a trigger bumps a version, an audit event). Rows are therefore compared with
the table first and only the ones that differ are written, in bulk.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone

Row = dict[str, Any]
Key = tuple[Any, ...]

BATCH_SIZE = 1000


class SeedDataError(Exception):
    """A data file contradicts itself, the database or a reference list (ISO 3166 via pycountry)."""


@dataclass
class SyncResult:
    """What one sync did to one kind of row, and the primary key of every row of the data, by its key."""

    label: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pks: dict[Key, int] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return f"{self.label}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def sync_rows(
    *,
    label: str,
    model: type[models.Model],
    key: Sequence[str],
    rows: Sequence[Row],
    existing: models.QuerySet | None = None,
    validate: bool = False,
) -> SyncResult:
    """Make ``model``'s table hold ``rows``, matching stored rows on the ``key`` fields.

    Rows map field attnames (``parent_id``, not ``parent``) to values; all rows have the same fields.
    Stored rows are looked up in ``existing``, by default those whose first key field takes a value of
    the data. Rows stored but absent from the data are left alone: reference data may be referenced by
    casualty records, so it is never deleted here. With ``validate``, each row written is ``full_clean``ed.
    """
    result = SyncResult(label=label)
    if not rows:
        return result
    fields = _field_names(rows=rows, key=key)
    data = _keyed(rows=rows, key=key, label=label)
    if existing is None:
        existing = model._default_manager.filter(**{f"{key[0]}__in": {k[0] for k in data}})
    stored = {tuple(values[name] for name in key): values for values in existing.values("pk", *key, *fields)}

    to_create: list[models.Model] = []
    to_update: list[models.Model] = []
    for row_key, row in data.items():
        current = stored.get(row_key)
        if current is None:
            to_create.append(model(**row))
        elif any(current[name] != row[name] for name in fields):
            instance = model(pk=current["pk"], **row)
            instance._state.adding = False  # so validation treats it as the stored row, not a new one
            to_update.append(instance)
            result.pks[row_key] = current["pk"]
        else:
            result.pks[row_key] = current["pk"]
    result.unchanged = len(data) - len(to_create) - len(to_update)

    if validate:
        for instance in [*to_create, *to_update]:
            instance.full_clean()
    _update(model=model, instances=to_update, fields=fields)
    result.updated = len(to_update)
    created = model._default_manager.bulk_create(to_create, batch_size=BATCH_SIZE)
    result.created = len(created)
    result.pks.update({tuple(getattr(obj, name) for name in key): obj.pk for obj in created})
    return result


def _field_names(*, rows: Sequence[Row], key: Sequence[str]) -> list[str]:
    names = set(rows[0])
    if any(set(row) != names for row in rows):
        raise SeedDataError("All rows of one sync must have the same fields.")
    missing = set(key) - names
    if missing:
        raise SeedDataError(f"The rows lack the key fields {sorted(missing)}.")
    return sorted(names - set(key))


def _keyed(*, rows: Sequence[Row], key: Sequence[str], label: str) -> dict[Key, Row]:
    data: dict[Key, Row] = {}
    for row in rows:
        row_key = tuple(row[name] for name in key)
        if row_key in data:
            raise SeedDataError(f"{label}: {row_key} appears twice in the data.")
        data[row_key] = row
    return data


def _update(*, model: type[models.Model], instances: list[models.Model], fields: list[str]) -> None:
    """Write the given fields of rows known to differ; bulk updates skip ``auto_now``, so set it here."""
    if not instances:
        return
    touched = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    now = timezone.now()
    for instance in instances:
        for name in touched:
            setattr(instance, name, now)
    model._default_manager.bulk_update(instances, [*fields, *touched], batch_size=BATCH_SIZE)
