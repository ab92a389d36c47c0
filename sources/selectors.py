"""Reads of sources and reports that more than one caller needs."""

from __future__ import annotations

import datetime

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import QuerySet

from .models import Report, Source

# Titles of one source on one day at least this similar (pg_trgm similarity, 0..1) are likely one report.
SIMILAR_TITLE = 0.5
SIMILAR_SHOWN = 5


def similar_reports(
    *, source: Source, published_on: datetime.date, title: str, exclude_pk: int | None = None
) -> QuerySet[Report]:
    """Reports of the same source published the same day with a similar title, most similar first.

    Bounded by the source and the day (the publication-date index), whatever the size of the table.
    """
    reports = Report.objects.filter(source=source, published_on=published_on)
    if exclude_pk is not None:
        reports = reports.exclude(pk=exclude_pk)
    return (
        reports.annotate(title_similarity=TrigramSimilarity("title", title))
        .filter(title_similarity__gte=SIMILAR_TITLE)
        .select_related("source")
        .order_by("-title_similarity", "pk")[:SIMILAR_SHOWN]
    )
