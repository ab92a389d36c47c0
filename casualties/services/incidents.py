"""Incident writes: create and edit guarded by the version number, review transitions."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from ..choices import ReviewStatus
from ..models import Incident
from ..roles import can_change_incident, transition_refusal
from .base import write_service

# Stamped by the database or by the workflow, never compared to decide whether an edit changed anything.
_BOOKKEEPING = {"version", "version_mark", "created_at", "updated_at", "created_by", "updated_by"}


class StaleVersionError(Exception):
    """The record changed since the editor loaded it; their save would overwrite someone else's work."""

    def __init__(self, *, expected: int, current: int):
        self.expected, self.current = expected, current
        super().__init__(
            f"This incident was changed by someone else while you edited it (you loaded version {expected}, "
            f"it is now at version {current}). Reload it, re-apply your changes and save again."
        )


def lock_current_version(incident: Incident, expected_version: int | None) -> Incident:
    """Lock the row and refuse the write if it moved on since ``expected_version`` was read; returns the row as
    it is in the database."""
    current = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersionError(expected=expected_version, current=current.version)
    return current


def _changed_fields(incident: Incident, current: Incident) -> list[str]:
    return [
        field.name
        for field in Incident._meta.concrete_fields
        if field.name not in _BOOKKEEPING and field.value_from_object(incident) != field.value_from_object(current)
    ]


@write_service
def incident_save(*, incident: Incident, user, expected_version: int | None = None) -> Incident:
    """Validate and save an incident as ``user``; with ``expected_version``, refuse a stale edit.

    The database raises the version on every change, so any change made by anyone since the editor
    loaded the record is detected, whatever path it came by. A save that changes nothing writes
    nothing: no new version, no audit event, and ``user`` does not become the last to change it.
    """
    if not can_change_incident(user, incident):
        raise PermissionDenied("You may not edit this incident.")
    incident.full_clean()
    if incident.pk is None:
        incident.created_by = incident.updated_by = user
        incident.save()
    else:
        changed = _changed_fields(incident, lock_current_version(incident, expected_version))
        if changed:
            incident.updated_by = user
            incident.save(update_fields=[*changed, "updated_by", "updated_at"])
    incident.refresh_from_db(fields=["version", "updated_at", "updated_by"])
    return incident


@write_service
def incident_touch(*, incident: Incident, user) -> None:
    """Record that ``user`` changes what belongs to ``incident`` (its figures or actors) in this write: they become
    the last to have changed it, and its version rises once for the whole write. Call it before writing the rows."""
    Incident.objects.filter(pk=incident.pk).exclude(updated_by=user).update(updated_by=user)


@write_service
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
