"""Incident writes: create and edit guarded by the version number, review transitions."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from ..choices import ReviewStatus
from ..models import Incident
from ..roles import can_change_incident, transition_refusal


class StaleVersionError(Exception):
    """The record changed since the editor loaded it; their save would overwrite someone else's work."""

    def __init__(self, *, expected: int, current: int):
        self.expected, self.current = expected, current
        super().__init__(
            f"This incident was changed by someone else while you edited it (you loaded version {expected}, "
            f"it is now at version {current}). Reload it, re-apply your changes and save again."
        )


def lock_current_version(incident: Incident, expected_version: int | None) -> None:
    """Lock the row and refuse the write if it moved on since ``expected_version`` was read."""
    current = Incident.objects.select_for_update().values_list("version", flat=True).get(pk=incident.pk)
    if expected_version is not None and current != expected_version:
        raise StaleVersionError(expected=expected_version, current=current)


@transaction.atomic
def incident_save(*, incident: Incident, user, expected_version: int | None = None) -> Incident:
    """Validate and save an incident as ``user``; with ``expected_version``, refuse a stale edit.

    The database raises the version on every UPDATE, so any change made by anyone since the
    editor loaded the record is detected, whatever path it came by.
    """
    if not can_change_incident(user, incident):
        raise PermissionDenied("You may not edit this incident.")
    if incident.pk is None:
        incident.created_by = user
    else:
        lock_current_version(incident, expected_version)
    incident.updated_by = user
    incident.full_clean()
    incident.save()
    incident.refresh_from_db(fields=["version", "updated_at"])
    return incident


@transaction.atomic
def incident_transition(*, incident: Incident, to_status: str, user, expected_version: int | None = None) -> Incident:
    """Move an incident through the review workflow (draft → submitted → verified, or rejected)."""
    lock_current_version(incident, expected_version)
    incident.refresh_from_db()
    refusal = transition_refusal(user, incident, to_status)
    if refusal:
        raise PermissionDenied(refusal)
    incident.status = to_status
    incident.updated_by = user
    if to_status in (ReviewStatus.VERIFIED, ReviewStatus.REJECTED):
        incident.reviewed_by = user
        incident.reviewed_at = timezone.now()
    incident.save(update_fields=["status", "updated_by", "reviewed_by", "reviewed_at", "updated_at"])
    incident.refresh_from_db(fields=["version", "updated_at"])
    return incident
