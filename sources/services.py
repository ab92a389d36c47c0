"""Report writes: the one path by which the admin and the API create and change a source's publications.

Who may: the role's model permission (the role groups are defined in casualties.roles, which gives
data-entry staff and reviewers ``add_report`` and ``change_report``), and, for a change, the rules of the
apps whose records cite reports. This app knows nothing of them: an app that keeps figures citing
reports registers a ``ReportGuard`` when it starts (casualties does, in its AppConfig), which says who may
change a report those figures depend on and raises what depends on it within the same write. A create
that repeats an existing report of its source exactly (found by its external id, else its URL) is a retry
and returns it; the same external id with other content is ``AlreadyExists``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any, Protocol

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

from .models import Report, Source

WRITABLE_FIELDS = (
    "source", "title", "url", "archive_url", "published_on", "language", "external_id", "summary", "credibility",
)  # fmt: skip


def report_existing(*, source: Source | None, url: str = "", external_id: str = "") -> Report | None:
    """The report of ``source`` with this external id (or, without one, this URL), if there is one."""
    if source is None or not (external_id or url):
        return None
    key = {"external_id": external_id} if external_id else {"url": url}
    return Report.objects.filter(source=source, **key).first()


class ReportGuard(Protocol):
    """What an app whose records cite reports says about a change to one."""

    def change_refusal(self, *, user, report: Report) -> str | None:
        """Why ``user`` may not change ``report``, or None."""

    def changing(self, *, user, report: Report, fields: Sequence[str]) -> AbstractContextManager[None]:
        """Wraps the write that changes ``fields`` of ``report``: what depends on the report changes with it."""


_guards: list[ReportGuard] = []


def register_report_guard(guard: ReportGuard) -> None:
    """Add ``guard`` to the rules every report change obeys (idempotent)."""
    if guard not in _guards:
        _guards.append(guard)


def _may(user, permission: str) -> None:
    if not (user is not None and user.is_active and user.has_perm(permission)):
        raise NotAllowed("Your role may not enter or change reports.")


def report_change_refusal(*, user, report: Report) -> str | None:
    """Why ``user`` may not change ``report`` (the admin's and the API's question too), or None if they may."""
    if not (user is not None and user.is_active and user.has_perm("sources.change_report")):
        return "Your role may not enter or change reports."
    for guard in _guards:
        refusal = guard.change_refusal(user=user, report=report)
        if refusal:
            return refusal
    return None


@contextmanager
def _changing(*, user, report: Report, fields: Sequence[str]) -> Iterator[None]:
    """The write that changes ``report``, inside every guard's ``changing``."""
    with ExitStack() as stack:
        for guard in _guards:
            stack.enter_context(guard.changing(user=user, report=report, fields=fields))
        yield


@transaction.atomic
def report_create(
    *,
    user,
    source: Source,
    title: str,
    published_on: datetime.date,
    url: str = "",
    archive_url: str = "",
    language: str = "",
    external_id: str = "",
    summary: str = "",
    credibility: int | None = None,
) -> tuple[Report, bool]:
    """Add a report as ``user``; returns it and whether it is new (a retry returns the existing one)."""
    values = {
        "source": source, "title": title, "published_on": published_on, "url": url, "archive_url": archive_url,
        "language": language, "external_id": external_id, "summary": summary, "credibility": credibility,
    }  # fmt: skip
    _may(user, "sources.add_report")
    existing = report_existing(source=source, url=url, external_id=external_id)
    if existing is not None:
        differing = differing_fields(existing, values)
        if not differing:
            return existing, False
        if external_id:
            raise AlreadyExists(existing, differing)
        # Another report under the same URL: the model's rules name it, at the URL.
    report = Report(**values, created_by=user)
    try:
        with transaction.atomic():
            validate(report)
            saved(report)
            checked_now(Report)
    except Invalid:
        existing = report_existing(source=source, url=url, external_id=external_id)  # a racing twin may have won
        if existing is not None and not differing_fields(existing, values):
            return existing, False
        raise
    return report, True


@transaction.atomic
def report_update(*, user, report: Report, read_at: datetime.datetime | None, changes: Mapping[str, Any]) -> Report:
    """Change a report as ``user``; ``read_at`` is the ``updated_at`` the caller read (a stale one is refused)."""
    _may(user, "sources.change_report")
    unknown = set(changes) - set(WRITABLE_FIELDS)
    if unknown:
        raise Invalid({name: "This field cannot be changed." for name in sorted(unknown)})
    report = Report.objects.select_for_update().get(pk=report.pk)
    check_read_version(report, read_at)
    refusal = report_change_refusal(user=user, report=report)
    if refusal:
        raise NotAllowed(f"{refusal} Nothing was changed.")
    fields = differing_fields(report, changes)
    if not fields:
        return report
    for name, value in changes.items():
        setattr(report, name, value)
    validate(report)
    with _changing(user=user, report=report, fields=fields):
        saved(report)
        checked_now(Report)
    return report
