"""Period totals: the rule that one source's totals for a region never overlap in time.

The admin's form and the tally services ask ``period_total_errors``; the exclusion constraint
``casualties_casualtytally_period_totals_no_overlap`` refuses the same rows again in the database.
"""

from __future__ import annotations

import datetime

from psycopg.types.range import Range

from ..models import CasualtyTally


def period_total_clash(*, tally: CasualtyTally) -> CasualtyTally | None:
    """The other period total of the same source, region, outcome, status and group whose period overlaps."""
    period = tally.reporting_period
    span = Range(period.date_start, period.date_end + datetime.timedelta(days=1), "[)")
    return (
        CasualtyTally.objects.filter(
            source_id=tally.report.source_id,
            region_id=tally.region_id,
            outcome=tally.outcome,
            status=tally.status,
            group=tally.group,
            period__overlap=span,
        )
        .exclude(pk=tally.pk)
        .select_related("report__source", "region", "reporting_period")
        .order_by("id")
        .first()
    )


def period_total_errors(*, tally: CasualtyTally) -> dict[str, str]:
    """The overlap rule for ``tally`` (a period total) as a message at its reporting period, naming the clash."""
    if not (tally.region_id and tally.reporting_period_id and tally.report_id):
        return {}
    clash = period_total_clash(tally=tally)
    if clash is None:
        return {}
    return {
        "reporting_period": (
            f"{clash.report.source} already has a total for {clash.region} over {clash.reporting_period}, "
            f"which overlaps this period: {clash.best} {clash.get_outcome_display().lower()} "
            f"({clash.get_status_display().lower()}, {clash.get_group_display().lower()}) "
            f"from “{clash.report.title}” (figure #{clash.pk})."
        )
    }
