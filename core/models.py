"""Model helpers both apps share: the audit trail, the updated_at stamp, the no-future-date rule."""

import datetime

import pghistory
import pgtrigger
from django.db.models import Q
from django.db.models.functions import Now


def touch_updated_at() -> pgtrigger.Trigger:
    """Stamp ``updated_at`` on every real change, also from QuerySet.update() and raw SQL (sync relies on it)."""
    return pgtrigger.Trigger(
        name="touch_updated_at",
        operation=pgtrigger.Update,
        when=pgtrigger.Before,
        condition=pgtrigger.AnyChange(exclude=["updated_at"]),
        func="NEW.updated_at := now(); RETURN NEW;",
    )


def not_in_future(field: str) -> Q:
    """A date no later than today anywhere on Earth (UTC+14), so "today" is accepted in every time zone."""
    return Q(**{f"{field}__lte": Now() + datetime.timedelta(hours=14)})


def audited(model=None, *, exclude: list[str] | None = None):
    """Record every create, change and delete of the model by database trigger (``exclude``: bookkeeping fields
    the events leave out). Use as ``@audited`` or ``@audited(exclude=[...])``."""

    def track(model):
        # Trackers hold per-model state, so each model gets its own.
        trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
        return pghistory.track(*trackers, exclude=exclude)(model)

    return track if model is None else track(model)
