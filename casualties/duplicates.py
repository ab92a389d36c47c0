"""Possible duplicates of an incident: the same event entered twice, from one report or from two."""

from __future__ import annotations

import datetime

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Concat
from psycopg.types.range import DateRange

from .models import Incident, IncidentActor, Region
from .models.incidents import incident_span
from .models.regions import PATH_SEPARATOR

# Titles and descriptions at least this similar (pg_trgm similarity, 0..1) count as "similar text".
TEXT_SIMILARITY = 0.3
# The candidates scored, whatever the size of the table: up to this many in the same area, and this many more
# from anywhere, among the incidents whose dates come within a day (each set one probe of the incidents' span
# index). Only on the busiest days does a window hold more.
SAME_AREA_CANDIDATES = 200
OTHER_CANDIDATES = 300


def _ancestor_paths(path: str) -> list[str]:
    """ "SYR/SY07/SY0700/" -> ["SYR/", "SYR/SY07/"]."""
    codes = path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]
    return [PATH_SEPARATOR.join(codes[: i + 1]) + PATH_SEPARATOR for i in range(len(codes))]


def incident_possible_duplicates(
    *, incident: Incident, limit: int = 10, candidates: QuerySet | None = None
) -> list[Incident]:
    """Incidents that may be the same event as ``incident``, the likeliest first.

    A candidate is another incident not merged away, whose dates come within a day of this one's,
    and that shares at least one of: a place in the same region subtree (one region contains the
    other), an actor, or similar text (trigram similarity of title and description of at least
    TEXT_SIMILARITY). The candidates are bounded (SAME_AREA_CANDIDATES, OTHER_CANDIDATES), so the answer takes
    as long at any size of the table. Each result carries ``same_region``, ``shared_actor``, ``text_similarity``
    and ``match_count`` (how many of the three hold). ``candidates`` narrows the search, e.g. to
    what the viewer may see.
    """
    queryset = Incident.objects.all() if candidates is None else candidates
    one_day = datetime.timedelta(days=1)
    region_path = incident.region.path
    same_region = Q(region__path__startswith=region_path) | Q(region__path__in=_ancestor_paths(region_path))
    window = (
        queryset.alias(span=incident_span())
        .filter(span__overlap=DateRange(incident.date_start - one_day, incident.date_end + one_day, "[]"))
        .exclude(pk=incident.pk)
        .filter(duplicate_of__isnull=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    areas = Region.objects.filter(Q(path__startswith=region_path) | Q(path__in=_ancestor_paths(region_path)))
    # The area is tested on the window's rows, against a list of the area's units: looked up by the incidents'
    # region index instead, or joined unit by unit, a region's history or the window would be read once per unit
    # (the "+ 0" keeps the index out of the plan; the list keeps it one scan of the window).
    area_ids = list(areas.values_list("pk", flat=True))
    in_area = window.alias(region_ref=ExpressionWrapper(F("region_id") + 0, output_field=BigIntegerField())).filter(
        region_ref__in=area_ids
    )
    bounded = list(in_area[:SAME_AREA_CANDIDATES].union(window[:OTHER_CANDIDATES]))
    shared_actor = Exists(
        IncidentActor.objects.filter(
            incident=OuterRef("pk"), actor__in=IncidentActor.objects.filter(incident=incident).values("actor")
        )
    )
    text = f"{incident.title} {incident.description}".strip()
    rows = (
        Incident.objects.filter(pk__in=bounded)
        .annotate(
            same_region=Case(When(same_region, then=Value(1)), default=Value(0), output_field=IntegerField()),
            shared_actor=Case(When(shared_actor, then=Value(1)), default=Value(0), output_field=IntegerField()),
            text_similarity=TrigramSimilarity(
                Concat("title", Value(" "), "description", output_field=TextField()), text
            ),
        )
        .annotate(
            match_count=F("same_region")
            + F("shared_actor")
            + Case(
                When(text_similarity__gte=TEXT_SIMILARITY, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .filter(match_count__gt=0)
        .select_related("region", "incident_type")
        .order_by("-match_count", F("text_similarity").desc(), "date_start", "pk")
    )
    return list(rows[:limit])
