"""Derived data: the estimates and the aggregate summary cells, normally kept current by triggers."""

from __future__ import annotations

from django.db import connection, transaction

from ..models import Estimate


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
