"""Figure writes: create, change and delete casualty tallies, about an incident or a region over a period.

Every path that writes a figure (the incident page, the period-total page, the API) comes here.
The rules checked, in order: who may (casualties.roles), the version the caller read, the model's
own rules, the overlap of period totals (``periods.period_total_errors``) and the of-which rule
(``subgroup_errors``); then the database checks its constraints and triggers at once, as the last
line of defence, so nothing half-written survives a refusal.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction

from core.services import (
    AlreadyExists,
    Invalid,
    NotAllowed,
    check_read_version,
    checked_now,
    differing_fields,
    saved,
    validate,
)
from sources.models import Report

from ..choices import CasualtyGroup, Qualifier
from ..models import CasualtyTally, Incident, Region, ReportingPeriod
from ..roles import (
    can_add_period_total,
    can_change_figures,
    can_change_period_total,
    can_mark_preferred,
    can_see_tally,
)
from .base import write_service
from .incidents import incident_touch
from .periods import period_total_errors

# The fields that name a figure: a second figure with the same key is the same figure entered twice.
KEY_FIELDS = ("report", "incident", "region", "reporting_period", "outcome", "status", "group")
# Fields a write may set.
WRITABLE_FIELDS = (*KEY_FIELDS, "low", "best", "high", "qualifier", "reported_phrase", "is_preferred", "notes")


def tally_check_read(tally: CasualtyTally, read_at: datetime.datetime | None) -> None:
    """Refuse a write to ``tally`` if it changed after ``read_at``, the ``updated_at`` its editor read."""
    check_read_version(tally, read_at, noun="figure", now_reads=f"{tally.low}-{tally.best}-{tally.high}")


def _target(tally: CasualtyTally) -> tuple:
    return (tally.report_id, tally.incident_id, tally.region_id, tally.reporting_period_id, tally.outcome, tally.status)


def subgroup_errors(
    *, figures: Iterable[CasualtyTally], written: Sequence[CasualtyTally]
) -> list[tuple[CasualtyTally, str]]:
    """The of-which rule: a subgroup figure never exceeds the figure for all of the same report, target,
    outcome and status. ``figures`` are all the figures concerned, as they would be after the write;
    each breach is reported once, at whichever of the two figures is being ``written``."""
    figures = list(figures)
    totals = {_target(f): f for f in figures if f.group == CasualtyGroup.ALL}
    is_written = {id(f) for f in written} | {f.pk for f in written if f.pk is not None}
    errors = []
    for sub in figures:
        total = totals.get(_target(sub))
        if sub.group == CasualtyGroup.ALL or total is None or (sub.best <= total.best and sub.high <= total.high):
            continue
        label = CasualtyGroup(sub.group).label
        if id(sub) in is_written or sub.pk in is_written:
            errors.append(
                (
                    sub,
                    f"The {label} figure (best {sub.best}, high {sub.high}) exceeds the figure for all from the same "
                    f"report (best {total.best}, high {total.high}).",
                )
            )
        else:
            errors.append(
                (
                    total,
                    f"The figure for all (best {total.best}, high {total.high}) is below the {label} figure from "
                    f"the same report (best {sub.best}, high {sub.high}).",
                )
            )
    return errors


def _refuse_unless_allowed(
    user, *, incidents: Iterable[Incident | None], preferred_changed: bool, period_total: str | None = None
) -> None:
    """Who may write a figure: whoever may edit its incident (before and after the write); for a period total
    (``period_total`` is "add" for a new one, "change" for a change to or deletion of an existing one), whoever
    enters figures adds one and a reviewer changes one (casualties.roles); only a reviewer changes which figure
    is preferred."""
    for incident in (incident for incident in incidents if incident is not None):
        if not can_change_figures(user, incident):
            raise NotAllowed(f"You may not change the figures of incident {incident.public_id}.")
    if period_total == "add" and not can_add_period_total(user):
        raise NotAllowed("You may not enter period totals.")
    if period_total == "change" and not can_change_period_total(user):
        raise NotAllowed(
            "A period total is a public figure from the moment it is entered: a reviewer corrects or deletes it. "
            "Nothing was changed."
        )
    if preferred_changed and not can_mark_preferred(user):
        raise NotAllowed("Only a reviewer marks a figure as preferred.")


def _check_rules(tally: CasualtyTally) -> None:
    validate(tally)
    if tally.region_id:
        errors = period_total_errors(tally=tally)
        if errors:
            raise Invalid(errors)


def _check_subgroups(written: Sequence[CasualtyTally]) -> None:
    """The of-which rule over what is now in the database for every report and target ``written`` touches."""
    for target in {_target(t) for t in written}:
        report_id, incident_id, region_id, period_id, outcome, status = target
        figures = CasualtyTally.objects.filter(
            report_id=report_id,
            incident_id=incident_id,
            region_id=region_id,
            reporting_period_id=period_id,
            outcome=outcome,
            status=status,
        ).order_by("id")
        errors = subgroup_errors(figures=figures, written=written)
        if errors:
            raise Invalid({"best": errors[0][1]})


def tally_existing(*, values: Mapping[str, Any]) -> CasualtyTally | None:
    """The figure that ``values`` names by its key, if there is one."""
    key = {name: values.get(name) for name in KEY_FIELDS}
    key["group"] = key["group"] or CasualtyGroup.ALL
    if not key["report"] or not (key["incident"] or (key["region"] and key["reporting_period"])):
        return None
    return CasualtyTally.objects.filter(**key).select_related("incident").first()


def _replay(existing: CasualtyTally, values: Mapping[str, Any]) -> bool:
    """True if ``values`` repeat ``existing`` exactly."""
    return not differing_fields(existing, values)


@write_service
def tally_create(
    *,
    user,
    report: Report,
    outcome: str,
    status: str,
    best: int,
    incident: Incident | None = None,
    region: Region | None = None,
    reporting_period: ReportingPeriod | None = None,
    group: str = CasualtyGroup.ALL,
    low: int | None = None,
    high: int | None = None,
    qualifier: str = Qualifier.EXACT,
    reported_phrase: str = "",
    is_preferred: bool = False,
    notes: str = "",
) -> tuple[CasualtyTally, bool]:
    """Add a figure as ``user``; returns it and whether it is new.

    A create that repeats an existing figure exactly (the same key and numbers) is a retry: it
    returns that figure and changes nothing, whatever has become of its incident since. The same
    key with other content is ``AlreadyExists``.
    """
    values = {
        "report": report, "incident": incident, "region": region, "reporting_period": reporting_period,
        "outcome": outcome, "status": status, "group": group, "low": best if low is None else low, "best": best,
        "high": best if high is None else high, "qualifier": qualifier, "reported_phrase": reported_phrase,
        "is_preferred": is_preferred, "notes": notes,
    }  # fmt: skip
    existing = tally_existing(values=values)
    if existing is not None and can_see_tally(user, existing) and _replay(existing, values):
        return existing, False
    tally = CasualtyTally(**values)
    _refuse_unless_allowed(
        user, incidents=[incident], preferred_changed=is_preferred, period_total="add" if incident is None else None
    )
    if existing is not None:
        raise AlreadyExists(existing, differing_fields(existing, values))
    try:
        _write(user=user, incidents=[incident], saves=[tally])
    except Invalid:
        existing = tally_existing(values=values)  # an identical request, racing this one, may have won
        if existing is not None and _replay(existing, values):
            return existing, False
        raise
    return tally, True


@write_service
def tally_update(
    *, user, tally: CasualtyTally, read_at: datetime.datetime | None, changes: Mapping[str, Any]
) -> CasualtyTally:
    """Change a figure as ``user``; ``read_at`` is the ``updated_at`` the caller read (a stale one is refused)."""
    unknown = set(changes) - set(WRITABLE_FIELDS)
    if unknown:
        raise Invalid({name: "This field cannot be changed." for name in sorted(unknown)})
    tally = CasualtyTally.objects.select_for_update(of=("self",)).select_related("incident").get(pk=tally.pk)
    tally_check_read(tally, read_at)
    before, was_preferred = tally.incident, tally.is_preferred
    for name, value in changes.items():
        setattr(tally, name, value)
    incidents = [before, tally.incident]
    _refuse_unless_allowed(
        user,
        incidents=incidents,
        preferred_changed=tally.is_preferred != was_preferred,
        period_total="change" if None in incidents else None,
    )
    _write(user=user, incidents=incidents, saves=[tally])
    return tally


@write_service
def tally_delete(*, user, tally: CasualtyTally, read_at: datetime.datetime | None = None) -> None:
    """Delete a figure as ``user``; with ``read_at``, refuse if it changed since the caller read it."""
    tally = CasualtyTally.objects.select_for_update(of=("self",)).select_related("incident").get(pk=tally.pk)
    _refuse_unless_allowed(
        user,
        incidents=[tally.incident],
        preferred_changed=False,
        period_total="change" if tally.incident is None else None,
    )
    if read_at is not None:
        tally_check_read(tally, read_at)
    _write(user=user, incidents=[tally.incident], deletes=[tally])


@write_service
def incident_figures_save(
    *,
    user,
    incident: Incident,
    saves: Sequence[CasualtyTally],
    deletes: Sequence[CasualtyTally] = (),
    read_at: Mapping[int, datetime.datetime | None] | None = None,
) -> None:
    """Write several figures of one incident at once, as its page does: the rules hold for the result as a
    whole, so a subgroup and its figure for all may change together. ``read_at`` maps a figure's id to the
    ``updated_at`` the caller read."""
    read_at = read_at or {}
    if not (saves or deletes):
        return
    current = {
        t.pk: t
        for t in CasualtyTally.objects.select_for_update().filter(pk__in=[t.pk for t in [*saves, *deletes] if t.pk])
    }
    if any(t.incident_id != incident.pk for t in current.values()):
        raise NotAllowed(f"Only figures of incident {incident.public_id} are written with it.")
    for tally in [*saves, *deletes]:
        if tally.pk in read_at:
            tally_check_read(current[tally.pk], read_at[tally.pk])
    for tally in saves:
        tally.incident = incident
    preferred_changed = any(t.is_preferred != (current[t.pk].is_preferred if t.pk else False) for t in saves)
    _refuse_unless_allowed(user, incidents=[incident], preferred_changed=preferred_changed)
    _write(user=user, incidents=[incident], saves=saves, deletes=deletes)


def _write(
    *,
    user,
    incidents: Iterable[Incident | None],
    saves: Sequence[CasualtyTally] = (),
    deletes: Sequence[CasualtyTally] = (),
) -> None:
    """Write the figures, all or nothing; ``user`` becomes the last to have changed their ``incidents``."""
    with transaction.atomic():
        for incident in {i.pk: i for i in incidents if i is not None}.values():
            incident_touch(incident=incident, user=user)
        for tally in deletes:
            tally.delete()
        for tally in saves:
            _check_rules(tally)
            saved(tally)
        _check_subgroups(saves)
        checked_now(CasualtyTally)
