"""The aggregate summary: sums over the public set, kept current by database triggers (casualties/sql/summary.sql)."""

from django.db import models
from django.db.models import Q

# Cells are cut at this region level: requests grouped or filtered at a finer level read the incidents.
SUMMARY_LEVEL = 2


class SummaryGrain(models.TextChoices):
    DAY = "day", "Day of date_start"
    WEEK = "week", "ISO week of date_start"
    MONTH = "month", "Month of date_start"


class SummaryCell(models.Model):
    """Public incidents of one day or month in one region cut at admin2, counted (``figure`` empty) or with the
    sums of their estimates of one key (``figure`` = ``outcome/status/group``, status ``all`` for every status).

    Derived data: written only by the triggers of casualties/sql/summary.sql in the transaction that changes
    an incident, an estimate or a region's path; ``casualties_summary_rebuild()`` recomputes it from scratch
    and ``casualties_summary_drift()`` counts the cells that differ from a rebuild. A trigger refuses a cell
    without incidents, with unordered sums, or a count cell with sums (a CHECK cannot: an upsert's candidate row
    carries a negative change).
    """

    pk = models.CompositePrimaryKey("grain", "figure", "path", "bucket")
    grain = models.CharField(max_length=5, choices=SummaryGrain.choices)
    figure = models.CharField(max_length=40, blank=True)
    # Byte order ("C"), so "everything under SYR/SY07/" is a range of the primary key.
    path = models.CharField(max_length=255, db_collation="C")
    bucket = models.DateField()
    level = models.SmallIntegerField()
    incidents = models.IntegerField()
    low = models.BigIntegerField()
    best = models.BigIntegerField()
    high = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(grain__in=SummaryGrain.values), name="%(app_label)s_%(class)s_grain_valid"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=0, level__lte=SUMMARY_LEVEL), name="%(app_label)s_%(class)s_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.bucket} {self.path} {self.figure or 'incidents'}: {self.incidents}"
