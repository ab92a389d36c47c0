"""Write workflows: review transitions, edits guarded by the version number, estimates upkeep."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .choices import CasualtyGroup, ReviewStatus
from .models import CasualtyTally, Estimate, Incident, IncidentActor
from .roles import _is_user, can_change_incident, transition_refusal


class StaleVersionError(Exception):
    """The record changed since the editor loaded it; their save would overwrite someone else's work."""

    def __init__(self, *, expected: int, current: int):
        self.expected, self.current = expected, current
        super().__init__(
            f"This incident was changed by someone else while you edited it (you loaded version {expected}, "
            f"it is now at version {current}). Reload it, re-apply your changes and save again."
        )


def _lock_current_version(incident: Incident, expected_version: int | None) -> None:
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
        _lock_current_version(incident, expected_version)
    incident.updated_by = user
    incident.full_clean()
    incident.save()
    incident.refresh_from_db(fields=["version", "updated_at"])
    return incident


@transaction.atomic
def incident_transition(*, incident: Incident, to_status: str, user, expected_version: int | None = None) -> Incident:
    """Move an incident through the review workflow (draft → submitted → verified, or rejected)."""
    _lock_current_version(incident, expected_version)
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


def estimates_refresh(*, incident_ids: list[int]) -> None:
    """Recompute the estimates of these incidents from their tallies (what the tally triggers do)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT casualties_refresh_estimates(%s::bigint[])", [list(incident_ids)])


@transaction.atomic
def estimates_rebuild() -> int:
    """Throw away every estimate and derive them all again from the tallies; returns how many exist after."""
    Estimate.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT casualties_refresh_estimates(ARRAY(SELECT DISTINCT incident_id FROM casualties_casualtytally"
            " WHERE incident_id IS NOT NULL))"
        )
    return Estimate.objects.count()


def summary_suspend() -> None:
    """Stop the triggers keeping the aggregate summary for the rest of this transaction, which must end by
    ``summary_rebuild()``: for repairs that rewrite what the summary is made of when it may already be wrong."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT casualties_summary_suspend()")


def summary_rebuild() -> int:
    """Compute the aggregate summary cells from scratch (they are normally kept current by triggers) and resume
    their upkeep; returns how many there are. Readers of the summary wait until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT casualties_summary_rebuild()")
        return cursor.fetchone()[0]


def summary_drift() -> int:
    """The number of summary cells that differ from a rebuild from scratch: 0 when the summary is current."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT casualties_summary_drift()")
        return cursor.fetchone()[0]


class MergeRefused(ValidationError):
    """A merge that would lose or double a figure; nothing was changed."""


def _move_tallies(*, duplicate: Incident, into: Incident) -> int:
    """Give ``into`` the duplicate's figures; a figure ``into`` already has from the same report stays once."""
    kept = {
        (t.report_id, t.outcome, t.status, t.group): t
        for t in CasualtyTally.objects.filter(incident=into).select_related("report")
    }
    moved = 0
    for tally in CasualtyTally.objects.filter(incident=duplicate).select_related("report").order_by("pk"):
        twin = kept.get((tally.report_id, tally.outcome, tally.status, tally.group))
        if twin is not None:
            if (twin.low, twin.best, twin.high) != (tally.low, tally.best, tally.high):
                raise MergeRefused(
                    f"“{tally.report.title}” gives {tally.low}-{tally.best}-{tally.high} on this incident (figure "
                    f"#{tally.pk}) but {twin.low}-{twin.best}-{twin.high} on the other (figure #{twin.pk}) for the "
                    "same outcome, status and group; correct one of them before merging."
                )
            # The same report's same figure, entered twice: one copy stays; the audit trail keeps the other.
            tally.delete()
            continue
        if (
            tally.is_preferred
            and CasualtyTally.objects.filter(
                incident=into, outcome=tally.outcome, status=tally.status, group=tally.group, is_preferred=True
            ).exists()
        ):
            tally.is_preferred = False
        tally.incident = into
        tally.save(update_fields=["incident", "is_preferred", "updated_at"])
        moved += 1
    _refuse_subgroup_above_all(into)
    return moved


def _refuse_subgroup_above_all(incident: Incident) -> None:
    """The of-which rule over the merged figures, checked now rather than by the database at commit."""
    larger_than_all = CasualtyTally.objects.filter(
        incident=incident,
        report=OuterRef("report"),
        outcome=OuterRef("outcome"),
        status=OuterRef("status"),
        group=CasualtyGroup.ALL,
    ).filter(Q(best__lt=OuterRef("best")) | Q(high__lt=OuterRef("high")))
    clash = (
        CasualtyTally.objects.filter(incident=incident)
        .exclude(group=CasualtyGroup.ALL)
        .filter(Exists(larger_than_all))
        .select_related("report")
        .first()
    )
    if clash is not None:
        raise MergeRefused(
            f"After the merge, the {clash.get_group_display()} figure #{clash.pk} from “{clash.report.title}” "
            "would exceed that report's figure for all on the same incident; correct it before merging."
        )


@transaction.atomic
def incident_merge(*, duplicate: Incident, into: Incident, user) -> Incident:
    """Merge ``duplicate`` into ``into``: its figures and actors move, it points at ``into`` and stops counting.

    The duplicate row stays (with ``duplicate_of`` set) so links and history keep working; incidents
    already merged into it are re-pointed to ``into``. Estimates of both are recomputed.
    """
    if not _is_user(user) or not (user.is_superuser or user.has_perm("casualties.merge_incident")):
        raise PermissionDenied("Only reviewers can merge duplicates.")
    locked = {i.pk: i for i in Incident.objects.select_for_update().filter(pk__in=[duplicate.pk, into.pk])}
    duplicate, into = locked[duplicate.pk], locked[into.pk]
    if duplicate.pk == into.pk:
        raise MergeRefused("An incident cannot be merged into itself.")
    if into.duplicate_of_id is not None:
        raise MergeRefused(f"“{into}” is itself merged into incident #{into.duplicate_of_id}; merge into that one.")
    if duplicate.duplicate_of_id is not None:
        raise MergeRefused(f"“{duplicate}” is already merged into incident #{duplicate.duplicate_of_id}.")
    _move_tallies(duplicate=duplicate, into=into)
    have = set(IncidentActor.objects.filter(incident=into).values_list("actor_id", "role"))
    IncidentActor.objects.bulk_create(
        IncidentActor(incident=into, actor_id=actor_id, role=role)
        for actor_id, role in IncidentActor.objects.filter(incident=duplicate).values_list("actor_id", "role")
        if (actor_id, role) not in have
    )
    for earlier in Incident.objects.filter(duplicate_of=duplicate):
        earlier.duplicate_of = into
        earlier.updated_by = user
        earlier.save(update_fields=["duplicate_of", "updated_by", "updated_at"])
    duplicate.duplicate_of = into
    duplicate.updated_by = user
    duplicate.save(update_fields=["duplicate_of", "updated_by", "updated_at"])
    into.updated_by = user
    into.save(update_fields=["updated_by", "updated_at"])
    estimates_refresh(incident_ids=[duplicate.pk, into.pk])
    into.refresh_from_db()
    return into
