"""Incident writes: create and edit guarded by the version number, review transitions."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.services import (
    AlreadyExists,
    Invalid,
    NotAllowed,
    Stale,
    checked_now,
    database_refusal,
    differing_fields,
    invalid,
)

from ..choices import ReviewStatus
from ..models import Incident, IncidentActor
from ..roles import can_change_incident, transition_refusal
from .base import write_service

# Stamped by the database or by the workflow, never compared to decide whether an edit changed anything.
_BOOKKEEPING = {"version", "version_mark", "created_at", "updated_at", "created_by", "updated_by"}


class StaleVersionError(Stale):
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


# What an incident create or update may set; the rest (status, review, merge) has its own services.
INCIDENT_FIELDS = (
    "title", "description", "date_start", "date_end", "date_precision", "region", "place_name", "latitude",
    "longitude", "location_precision", "incident_type", "external_id",
)  # fmt: skip


def _actors_set(*, incident: Incident, actors: Collection[tuple[int, str]], user) -> None:
    """Make ``actors`` ((actor id, role) pairs) the incident's actors, touching only the rows that differ."""
    wanted = set(actors)
    current = set(incident.actor_roles.values_list("actor_id", "role"))
    if wanted != current:
        incident_touch(incident=incident, user=user)
    for actor_id, role in current - wanted:
        incident.actor_roles.filter(actor_id=actor_id, role=role).delete()
    IncidentActor.objects.bulk_create(
        IncidentActor(incident=incident, actor_id=actor_id, role=role) for actor_id, role in sorted(wanted - current)
    )


@write_service
def incident_actors_set(*, user, incident: Incident, actors: Collection[tuple[int, str]]) -> None:
    """Make ``actors`` ((actor id, role) pairs) the incident's actors, as ``user``."""
    if not can_change_incident(user, incident):
        raise NotAllowed("You may not edit this incident.")
    _actors_set(incident=incident, actors=actors, user=user)


def incident_existing(*, user, external_id: str) -> Incident | None:
    """The incident ``user`` created with this ``external_id``, if any."""
    if not external_id:
        return None
    return Incident.objects.filter(created_by=user, external_id=external_id).first()


def _differing(incident: Incident, values: Mapping[str, Any], actors: Collection[tuple[int, str]]) -> list[str]:
    differing = differing_fields(incident, values)
    if set(incident.actor_roles.values_list("actor_id", "role")) != set(actors):
        differing.append("actors")
    return differing


@write_service
def incident_create(
    *, user, values: Mapping[str, Any], actors: Collection[tuple[int, str]] = ()
) -> tuple[Incident, bool]:
    """Create a draft incident with its actors as ``user``; returns it and whether it is new.

    With an ``external_id``, a create that repeats the incident ``user`` created with it is a retry:
    it returns that incident (even if it has moved on in review since); other content is ``AlreadyExists``.
    """
    refused = set(values) - set(INCIDENT_FIELDS)
    if refused:
        raise Invalid({name: "This field cannot be set here." for name in sorted(refused)})
    external_id = values.get("external_id", "")
    existing = incident_existing(user=user, external_id=external_id)
    if existing is None:
        incident = Incident(**values, status=ReviewStatus.DRAFT)
        try:
            with transaction.atomic():
                incident_save(incident=incident, user=user)
                checked_now(Incident)
                _actors_set(incident=incident, actors=actors, user=user)
            return incident, True
        except (ValidationError, IntegrityError) as exc:
            # An identical request racing this one may have created it first.
            existing = incident_existing(user=user, external_id=external_id)
            if existing is None:
                if isinstance(exc, IntegrityError):
                    raise Invalid(database_refusal(exc, Incident)) from exc
                raise invalid(exc) from exc
    differing = _differing(existing, values, actors)
    if differing:
        raise AlreadyExists(existing, differing)
    return existing, False


@write_service
def incident_update(
    *,
    user,
    incident: Incident,
    expected_version: int | None,
    values: Mapping[str, Any],
    actors: Collection[tuple[int, str]] | None = None,
) -> Incident:
    """Change an incident (and, when ``actors`` is given, replace its actors) as ``user``.

    ``expected_version`` is the version the caller read; a stale one is ``StaleVersionError``.
    """
    refused = set(values) - set(INCIDENT_FIELDS)
    if refused:
        raise Invalid({name: "This field cannot be changed here." for name in sorted(refused)})
    if expected_version is None:
        raise Invalid({"version": "Give the version you last read, to update."})
    for name, value in values.items():
        setattr(incident, name, value)
    try:
        incident_save(incident=incident, user=user, expected_version=expected_version)
    except ValidationError as exc:
        raise invalid(exc) from exc
    if actors is not None:
        _actors_set(incident=incident, actors=actors, user=user)
    return incident
