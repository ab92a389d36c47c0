"""Model helpers both apps share: the audit trail, the updated_at stamp, the no-future-date rule."""

import datetime
from contextlib import nullcontext

import pghistory
import pgtrigger
from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import BooleanField, CheckConstraint, Q, Value
from django.db.models.functions import Coalesce, Now
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE
from django.utils import timezone


def touch_updated_at() -> pgtrigger.Trigger:
    """Stamp ``updated_at`` on every real change, also from QuerySet.update() and raw SQL (sync relies on it)."""
    return pgtrigger.Trigger(
        name="touch_updated_at",
        operation=pgtrigger.Update,
        when=pgtrigger.Before,
        condition=pgtrigger.AnyChange(exclude=["updated_at"]),
        func="NEW.updated_at := now(); RETURN NEW;",
    )


# How far ahead of UTC "today" may be: the earliest time zone on Earth is UTC+14.
AHEAD_OF_UTC = datetime.timedelta(hours=14)


def not_in_future(field: str) -> Q:
    """A date no later than today anywhere on Earth (UTC+14), so "today" is accepted in every time zone."""
    return Q(**{f"{field}__lte": Now() + AHEAD_OF_UTC})


def future_date_errors(**dates: datetime.date | None) -> dict[str, str]:
    """The no-future-date rule, as ``not_in_future`` checks it in the database, as a message per field."""
    latest = (timezone.now() + AHEAD_OF_UTC).date()
    return {
        name: f"{value:%Y-%m-%d} is in the future; record only what has happened."
        for name, value in dates.items()
        if value is not None and value > latest
    }


def date_range_errors(*, start: datetime.date | None, end: datetime.date | None) -> dict[str, str]:
    """A ``date_start``/``date_end`` range that lies in the future or ends before it starts, at the date concerned."""
    errors = future_date_errors(date_start=start, date_end=end)
    if start and end and end < start and "date_end" not in errors:
        errors["date_end"] = f"The end ({end:%Y-%m-%d}) is before the start ({start:%Y-%m-%d})."
    return errors


def audited(model=None, *, exclude: list[str] | None = None):
    """Record every create, change and delete of the model by database trigger (``exclude``: bookkeeping fields
    the events leave out). Use as ``@audited`` or ``@audited(exclude=[...])``."""

    def track(model):
        # Trackers hold per-model state, so each model gets its own.
        trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
        return pghistory.track(*trackers, exclude=exclude)(model)

    return track if model is None else track(model)


class ChecksInOneQuery(models.Model):
    """Model validation that tests every check constraint of a row in one query.

    Django's ``validate_constraints`` asks the database about each check constraint on its own, inside a savepoint
    when a transaction is open: three statements a constraint, some twenty for one figure, hundreds for an incident
    page with its figures. Here the row's values are given once and each condition is one column of a single SELECT,
    with the same outcome: a condition that fails is the constraint's error, one that cannot be judged (a field left
    out of the validation) is skipped, and other constraints (unique ones) are validated as Django does.
    """

    class Meta:
        abstract = True

    def validate_constraints(self, exclude=None):
        using = router.db_for_write(self.__class__, instance=self)
        constraints = [(model, c) for model, model_constraints in self.get_constraints() for c in model_constraints]
        failed = self._failed_checks([(m, c) for m, c in constraints if type(c) is CheckConstraint], exclude, using)
        errors = {}
        for model, constraint in constraints:
            try:
                if type(constraint) is not CheckConstraint:
                    constraint.validate(model, self, exclude=exclude, using=using)
                elif constraint in failed:
                    raise ValidationError(
                        constraint.get_violation_error_message(), code=constraint.violation_error_code
                    )
            except ValidationError as error:
                if getattr(error, "code", None) == "unique" and len(constraint.fields) == 1:
                    errors.setdefault(constraint.fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _failed_checks(self, checks: list, exclude, using: str) -> list[CheckConstraint]:
        if not checks:
            return []
        query = Query(None)
        for model in {model for model, _ in checks}:
            for name, value in self._get_field_expression_map(meta=model._meta, exclude=exclude).items():
                if name not in query.annotations:
                    query.add_annotation(value if hasattr(value, "resolve_expression") else Value(value), name, False)
        judged = []
        for constraint in (c for _, c in checks):
            condition = Coalesce(Q(constraint.condition), Value(True), output_field=BooleanField())
            try:
                query.add_annotation(condition, f"_check_{len(judged)}")
            except FieldError:  # it names a field left out of this validation: not judged, as in Django
                continue
            judged.append(constraint)
        if not judged:
            return []
        connection = connections[using]
        try:
            with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
                row = query.get_compiler(using=using).execute_sql(SINGLE)
        except DatabaseError:  # as Django does: a condition the database cannot judge does not block the save
            return []
        return [constraint for constraint, passed in zip(judged, row, strict=True) if not passed]
