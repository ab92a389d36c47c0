"""Writing data-file rows to a table idempotently: create what is missing, update what differs, touch nothing else,
and never undo what a person changed.

Every model is audited by database triggers, so a row saved with the values it already had would still
cost an UPDATE (and, where a trigger bumps a version, an audit event). Rows are therefore compared with
the table first and only the ones that differ are written, in bulk.

Each row written is recorded (``seeds.SeedRecord``: the entry's key, the row's primary key, the values
written). A re-run finds its rows through those records, so a row stays the seed's own whatever a user
edited in it, and is never created a second time. It is updated only while it still holds the values the
seed wrote: a row someone changed, or deleted, after the seed wrote it is left alone, and the result says so.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from .models import SeedRecord

Row = dict[str, Any]
Key = tuple[Any, ...]

BATCH_SIZE = 1000


class SeedDataError(Exception):
    """A data file contradicts itself, the database or a reference list (ISO 3166 via pycountry)."""


@dataclass
class SyncResult:
    """What one sync did to one kind of row, and the primary key of every row of the data, by its key.

    ``left_alone`` says, per entry of the data that was not written, why: the row was changed or deleted by
    someone since the seed wrote it, or writing it would contradict what is stored.
    """

    label: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    left_alone: list[str] = field(default_factory=list)
    pks: dict[Key, int] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        counts = f"{self.label}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return f"{counts}, {len(self.left_alone)} left alone" if self.left_alone else counts

    def leave_alone(self, *, key: Key, reason: str) -> None:
        self.left_alone.append(f"{self.label} {_shown(key)}: {reason}")


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
    A row is found through its seed record; an entry with none (a first run) is looked up in ``existing``,
    by default the stored rows whose first key field takes a value of the data. Rows stored but absent
    from the data are left alone: reference data may be referenced by casualty records, so it is never
    deleted here. With ``validate``, each row written is ``full_clean``ed, and one that fails is left alone.
    """
    result = SyncResult(label=label)
    if not rows:
        return result
    fields = _field_names(rows=rows, key=key)
    columns = [*key, *fields]
    data = _keyed(rows=rows, key=key, label=label)
    label_of_model = model._meta.label
    records = {
        record.key: record
        for record in SeedRecord.objects.filter(model=label_of_model, key__in=[_encoded_key(k) for k in data])
    }
    recorded_rows = {
        values["pk"]: values
        for values in model._default_manager.filter(pk__in=[r.object_id for r in records.values()]).values(
            "pk", *columns
        )
    }
    unrecorded = [row_key for row_key in data if _encoded_key(row_key) not in records]
    if existing is None:
        existing = model._default_manager.filter(**{f"{key[0]}__in": {k[0] for k in unrecorded}})
    stored = (
        {tuple(values[name] for name in key): values for values in existing.values("pk", *columns)}
        if unrecorded
        else {}
    )

    to_create: list[tuple[Key, models.Model]] = []
    to_update: list[tuple[Key, models.Model]] = []
    to_record: dict[Key, int] = {}  # entries whose record is new or now holds the data's values
    for row_key, row in data.items():
        record = records.get(_encoded_key(row_key))
        if record is not None:
            current = recorded_rows.get(record.object_id)
            if current is None:
                result.leave_alone(key=row_key, reason="deleted since the seed wrote it; not created again")
                continue
            result.pks[row_key] = current["pk"]
            changed = _differing(model=model, current=current, values=record.seeded, columns=columns)
            if changed and _differing(model=model, current=current, values=row, columns=columns):
                result.leave_alone(key=row_key, reason=f"changed since the seed wrote it ({', '.join(changed)})")
                continue
            if changed:  # changed by someone to exactly what the data now says
                to_record[row_key] = current["pk"]
                result.unchanged += 1
                continue
        else:
            current = stored.get(row_key)
            if current is None:
                to_create.append((row_key, model(**row)))
                continue
            result.pks[row_key] = current["pk"]
            if any(current[name] != row[name] for name in fields):
                # Stored before the seed kept records: whoever made it differ, it is not the seed's to undo.
                changed = ", ".join(name for name in fields if current[name] != row[name])
                result.leave_alone(key=row_key, reason=f"differs from the data ({changed}) and was not written by it")
                continue
            to_record[row_key] = current["pk"]
        if any(current[name] != row[name] for name in fields):
            instance = model(pk=current["pk"], **row)
            instance._state.adding = False  # so validation treats it as the stored row, not a new one
            to_update.append((row_key, instance))
        else:
            result.unchanged += 1

    if validate:
        to_create = _valid(result=result, entries=to_create)
        to_update = _valid(result=result, entries=to_update)
    _update(model=model, instances=[instance for _, instance in to_update], fields=fields)
    result.updated = len(to_update)
    to_record.update({row_key: instance.pk for row_key, instance in to_update})
    created = model._default_manager.bulk_create([instance for _, instance in to_create], batch_size=BATCH_SIZE)
    result.created = len(created)
    for (row_key, _), obj in zip(to_create, created, strict=True):
        result.pks[row_key] = to_record[row_key] = obj.pk
    _record(model_label=label_of_model, data=data, written=to_record, records=records)
    return result


def recorded_pks(*, model: type[models.Model], values: set[Any]) -> dict[Any, int]:
    """The rows the seed wrote for entries keyed by one of these values alone, whatever they are called now."""
    records = SeedRecord.objects.filter(model=model._meta.label, key__in=[_encoded_key((v,)) for v in values])
    pks = {json.loads(record.key)[0]: record.object_id for record in records}
    alive = set(model._default_manager.filter(pk__in=pks.values()).values_list("pk", flat=True))
    return {value: pk for value, pk in pks.items() if pk in alive}


def _valid(*, result: SyncResult, entries: list[tuple[Key, models.Model]]) -> list[tuple[Key, models.Model]]:
    """The entries whose rows pass validation; the others are left alone, with the reason."""
    valid = []
    for row_key, instance in entries:
        try:
            instance.full_clean()
        except ValidationError as error:
            messages = "; ".join(message for messages in error.message_dict.values() for message in messages)
            result.leave_alone(key=row_key, reason=f"not written: {messages}")
            continue
        valid.append((row_key, instance))
    return valid


def _differing(*, model: type[models.Model], current: Row, values: Row, columns: Sequence[str]) -> list[str]:
    """The columns whose stored value is not the given one (recorded values are JSON: read them as the field)."""
    meta = model._meta
    return [name for name in columns if meta.get_field(name).to_python(values.get(name)) != current[name]]


def _record(*, model_label: str, data: dict[Key, Row], written: dict[Key, int], records: dict[str, SeedRecord]) -> None:
    """Remember, for each entry written or adopted, its row and the values it now holds as the data gives them."""
    new, changed = [], []
    for row_key, pk in written.items():
        encoded = _encoded_key(row_key)
        seeded = json.loads(json.dumps(data[row_key], cls=DjangoJSONEncoder))
        record = records.get(encoded)
        if record is None:
            new.append(SeedRecord(model=model_label, key=encoded, object_id=pk, seeded=seeded))
        elif (record.object_id, record.seeded) != (pk, seeded):
            record.object_id, record.seeded = pk, seeded
            changed.append(record)
    SeedRecord.objects.bulk_create(new, batch_size=BATCH_SIZE)
    SeedRecord.objects.bulk_update(changed, ["object_id", "seeded"], batch_size=BATCH_SIZE)


def _encoded_key(row_key: Key) -> str:
    return json.dumps(list(row_key), cls=DjangoJSONEncoder, ensure_ascii=False)


def _shown(row_key: Key) -> str:
    return ", ".join(str(part) for part in row_key)


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
