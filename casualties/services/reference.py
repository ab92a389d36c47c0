"""Reference records staff keep in the admin: reporting periods, gazetteer units, actors and their names, incident
types. They carry no figures of their own, so one rule fits them all: the user's model permission, the model's own
validation, then the database's checks, in one write. A reporting period is the one whose change moves figures (the
period totals over it), so changing one in use is a reviewer's (casualties.roles.period_change_refusal)."""

from __future__ import annotations

from django.db import models

from core.services import NotAllowed, checked_now, saved, validate

from ..models import CasualtyTally, ReportingPeriod
from ..roles import can_edit_reference, period_change_refusal
from .base import write_service


@write_service
def reference_save(*, user, record: models.Model) -> models.Model:
    """Create or change ``record`` as ``user``."""
    action = "add" if record.pk is None else "change"
    if not can_edit_reference(user, type(record), action=action):
        raise NotAllowed(f"You may not {action} {record._meta.verbose_name_plural}.")
    if isinstance(record, ReportingPeriod) and record.pk is not None:
        in_use = CasualtyTally.objects.filter(reporting_period_id=record.pk).count()
        refusal = period_change_refusal(user, period_total_count=in_use)
        if refusal:
            raise NotAllowed(f"{refusal} Nothing was changed.")
    validate(record)
    saved(record)
    checked_now(type(record))
    return record


@write_service
def reference_delete(*, user, record: models.Model) -> None:
    """Delete ``record`` as ``user`` (the database refuses while anything still refers to it)."""
    if not can_edit_reference(user, type(record), action="delete"):
        raise NotAllowed(f"You may not delete {record._meta.verbose_name_plural}.")
    record.delete()
