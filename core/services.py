"""What every write service shares: its typed refusals and the validated save.

Services raise these; the admin turns them into form errors and the API into 400, 403 and 409
(core.api), so a refusal reads the same on every path.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction


class NotAllowed(PermissionDenied):
    """The acting user's role may not make this write."""


class Invalid(ValidationError):
    """The write breaks a rule; ``message_dict`` holds the messages per field (``__all__`` for the whole)."""

    def __init__(self, errors: Mapping[str, str | list[str]] | str):
        if isinstance(errors, str):
            errors = {NON_FIELD_ERRORS: [errors]}
        super().__init__(
            {name: messages if isinstance(messages, list) else [messages] for name, messages in errors.items()}
        )


def invalid(exc: ValidationError) -> Invalid:
    """A model's ValidationError as an ``Invalid``, its messages kept per field."""
    return Invalid(exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages})


class Stale(Exception):
    """The record changed since the caller read it; writing would overwrite someone else's work."""


class StaleRecord(Stale):
    """A record versioned by its ``updated_at`` moved on since the caller read it."""

    def __init__(self, record: models.Model, *, noun: str = "", now_reads: str = ""):
        noun = noun or record._meta.verbose_name
        now = f"it now reads {now_reads}" if now_reads else f"at {record.updated_at.isoformat()}"
        super().__init__(
            f"This {noun} was changed by someone else after you read it ({now}). "
            "Reload it and apply your changes again."
        )


class AlreadyExists(Exception):
    """A create names an existing record by its key, with other content; nothing was changed."""

    def __init__(self, record: models.Model, differing: list[str]):
        self.record, self.differing = record, differing
        super().__init__(
            f"A {record._meta.verbose_name} with this key already exists with different values "
            f"({', '.join(differing)}); it was not changed. Update it instead."
        )


def differing_fields(instance: models.Model, values: Mapping) -> list[str]:
    """The names in ``values`` whose value differs from ``instance``'s."""
    return sorted(name for name, value in values.items() if getattr(instance, name) != value)


def check_read_version(record: models.Model, read_at, **describe: str) -> None:
    """Refuse a write to ``record`` (locked by the caller) if it changed after ``read_at``, its ``updated_at``.

    ``describe`` (``noun``, ``now_reads``) words the refusal for the record.
    """
    if read_at is None:
        raise Invalid({"updated_at": "Give the updated_at you last read, to update."})
    if read_at != record.updated_at:
        raise StaleRecord(record, **describe)


def validate(instance: models.Model) -> None:
    """The model's own rules (fields, ``clean()``, constraints) as per-field messages.

    Fields the database fills (copies, counters) are not asked of the caller, as in the admin's forms.
    """
    derived = [
        f.name for f in instance._meta.concrete_fields if not f.editable and f.value_from_object(instance) is None
    ]
    try:
        instance.full_clean(exclude=derived)
    except ValidationError as exc:
        raise invalid(exc) from exc


def database_refusal(exc: IntegrityError, model: type[models.Model]) -> str:
    """The message of the constraint or trigger that refused a write."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    for constraint in model._meta.constraints:
        if name and constraint.name == name:
            return str(constraint.get_violation_error_message())
    return getattr(diag, "message_primary", None) or str(exc)


def checked_now(model: type[models.Model]) -> None:
    """Run the deferred database checks now, so a rule checked at commit refuses this write here.

    The database is the last line of defence: a refusal here means the rules above it missed a
    case (or a concurrent write), and it still reads as a message, never a constraint name.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError as exc:
        raise Invalid(database_refusal(exc, model)) from exc
    finally:
        # Back to checking at commit for the rest of the transaction, so that a later write of several rows
        # (a subgroup and its figure for all raised together) is judged as a whole. Every deferrable check
        # in this schema (foreign keys, the of-which trigger) is initially deferred.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def saved(instance: models.Model, **kwargs) -> None:
    """Save ``instance`` in a savepoint; a constraint the database still refuses is an ``Invalid``."""
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        raise Invalid(database_refusal(exc, type(instance))) from exc
