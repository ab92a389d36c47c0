"""Merging a duplicate incident into the one that stays."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from ..models import CasualtyTally, Incident, IncidentActor
from ..roles import can_merge
from .base import write_service
from .estimates import estimates_refresh
from .tallies import subgroup_errors


class MergeRefused(ValidationError):
    """A merge that would lose or double a figure; nothing was changed."""


def _move_tallies(*, duplicate: Incident, into: Incident) -> int:
    """Give ``into`` the duplicate's figures; a figure ``into`` already has from the same report stays once."""
    kept = {
        (t.report_id, t.outcome, t.status, t.group): t
        for t in CasualtyTally.objects.filter(incident=into).select_related("report")
    }
    moved = []
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
        moved.append(tally)
    _refuse_subgroup_above_all(incident=into, moved=moved)
    return len(moved)


def _move_actors(*, duplicate: Incident, into: Incident) -> None:
    """The survivor keeps its own account of who did what: it gains only the actors it does not name at all, with
    the duplicate's roles for them; an actor both name keeps the survivor's role(s)."""
    named = set(IncidentActor.objects.filter(incident=into).values_list("actor_id", flat=True))
    IncidentActor.objects.bulk_create(
        IncidentActor(incident=into, actor_id=actor_id, role=role)
        for actor_id, role in IncidentActor.objects.filter(incident=duplicate)
        .order_by("actor_id", "role")
        .values_list("actor_id", "role")
        if actor_id not in named
    )


def _refuse_subgroup_above_all(*, incident: Incident, moved: list[CasualtyTally]) -> None:
    """The of-which rule (``subgroup_errors``) over the survivor's figures, checked now rather than at commit."""
    figures = CasualtyTally.objects.filter(incident=incident).select_related("report").order_by("pk")
    errors = subgroup_errors(figures=figures, written=moved)
    if errors:
        figure, message = errors[0]
        raise MergeRefused(
            f"After the merge, figure #{figure.pk} from “{figure.report.title}” would break the of-which rule: "
            f"{message} Correct it before merging."
        )


@write_service
def incident_merge(*, duplicate: Incident, into: Incident, user) -> Incident:
    """Merge ``duplicate`` into ``into``: its figures and actors move, it points at ``into`` and stops counting.

    The duplicate row stays (with ``duplicate_of`` set) so links and history keep working; incidents
    already merged into it are re-pointed to ``into``. Estimates of both are recomputed.
    """
    if not can_merge(user):
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
    _move_actors(duplicate=duplicate, into=into)
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
