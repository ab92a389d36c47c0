"""Model helpers both apps share: the audit trail, the updated_at stamp, the no-future-date rule."""

import datetime

import pghistory
import pgtrigger
from django.db.models import Q
from django.db.models.functions import Now
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
