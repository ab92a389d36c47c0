"""Reports as the figures see them: who may change a report that figures cite, and what such a change raises.

sources knows nothing of casualties; this guard is registered with sources.services when the app starts
(casualties.apps), so every change to a report, by the admin, the API or a command, obeys it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pghistory

from sources.models import Report

from ..models import CasualtyTally, Incident
from ..roles import report_change_refusal
from .base import write_scope


def report_dependents(*, report: Report) -> tuple[list[Incident], int]:
    """The incidents whose figures cite ``report`` (in id order) and the number of period totals that do."""
    incidents = list(Incident.objects.filter(tallies__report=report).distinct().order_by("id"))
    period_totals = CasualtyTally.objects.filter(report=report, incident__isnull=True).count()
    return incidents, period_totals


class FiguresCiteReports:
    """The rules a report change obeys because figures cite reports (sources.services.ReportGuard)."""

    def change_refusal(self, *, user, report: Report) -> str | None:
        incidents, period_totals = report_dependents(report=report)
        return report_change_refusal(user, report=report, incidents=incidents, period_total_count=period_totals)

    @contextmanager
    def changing(self, *, user, report: Report, fields: Sequence[str]) -> Iterator[None]:
        """One write: ``user`` becomes the last to have changed every incident whose figures cite the report, each
        one's version rises once (the database raises it again if a path skips this: sql/report_sync.sql), and
        the audit events of the write say why."""
        why = f"Report #{report.pk} changed ({', '.join(fields)})"
        with write_scope(), pghistory.context(why=why):
            cited = Incident.objects.filter(tallies__report=report).values("id")
            Incident.objects.filter(id__in=cited).exclude(updated_by=user).update(updated_by=user)
            yield


FIGURES_CITE_REPORTS = FiguresCiteReports()
