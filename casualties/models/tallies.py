import datetime

import pgtrigger
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from psycopg.types.range import Range

from core.models import ChecksInOneQuery, date_range_errors, not_in_future

from ..choices import CasualtyGroup, CasualtyStatus, Outcome, Qualifier
from .common import audited, touch_updated_at

# Recomputes the estimates of the incidents whose tallies a statement touched.
# The function itself is created by migration (casualties/sql/estimates.sql).
REFRESH_FROM = (
    "PERFORM casualties_refresh_estimates(ARRAY("
    "SELECT DISTINCT incident_id FROM {} WHERE incident_id IS NOT NULL)); RETURN NULL;"
)


class ReportingPeriodManager(models.Manager):
    def get_by_natural_key(self, date_start, date_end):
        return self.get(date_start=date_start, date_end=date_end)


@audited
class ReportingPeriod(ChecksInOneQuery):
    """A date range, both ends inclusive, that a source's period total covers ("the 24 hours to 20 July 2017")."""

    date_start = models.DateField()
    date_end = models.DateField()
    label = models.CharField(max_length=200, blank=True, help_text="As the source put it.")
    # The database default fills rows loaded from fixtures that predate the column.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), db_index=True)

    objects = ReportingPeriodManager()

    class Meta:
        ordering = ["-date_start", "-date_end"]
        constraints = [
            models.UniqueConstraint(fields=["date_start", "date_end"], name="%(app_label)s_%(class)s_unique_range"),
            models.CheckConstraint(
                condition=Q(date_start__lte=F("date_end")), name="%(app_label)s_%(class)s_dates_ordered"
            ),
            models.CheckConstraint(condition=not_in_future("date_end"), name="%(app_label)s_%(class)s_not_future"),
        ]
        triggers = [
            touch_updated_at(),
            # Tallies carry a copy of their period's range for the overlap constraint; keep it in step (the
            # period's own totals, by the reporting_period_id index).
            pgtrigger.Trigger(
                name="period_range_to_tallies",
                operation=pgtrigger.UpdateOf("date_start", "date_end"),
                when=pgtrigger.After,
                func="""
                UPDATE casualties_casualtytally SET period = daterange(NEW.date_start, NEW.date_end, '[]')
                 WHERE reporting_period_id = NEW.id;
                RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        span = (
            f"{self.date_start:%Y-%m-%d}"
            if self.date_start == self.date_end
            else (f"{self.date_start:%Y-%m-%d} to {self.date_end:%Y-%m-%d}")
        )
        return f"{self.label} ({span})" if self.label else span

    def natural_key(self):
        return (self.date_start.isoformat(), self.date_end.isoformat())

    def clean(self) -> None:
        errors = date_range_errors(start=self.date_start, end=self.date_end)
        if errors:
            raise ValidationError(errors)

    @property
    def days(self) -> int:
        return (self.date_end - self.date_start).days + 1


def low_best_high_ordered(prefix: str = "") -> Q:
    return Q(**{f"{prefix}low__gte": 0, f"{prefix}low__lte": F("best"), f"{prefix}best__lte": F("high")})


@audited
class CasualtyTally(ChecksInOneQuery):
    """One figure claimed by one report: about one incident, or a region over a reporting period (a period total)."""

    report = models.ForeignKey("sources.Report", on_delete=models.PROTECT, related_name="tallies")
    incident = models.ForeignKey("Incident", on_delete=models.CASCADE, null=True, blank=True, related_name="tallies")
    region = models.ForeignKey("Region", on_delete=models.PROTECT, null=True, blank=True, related_name="tallies")
    reporting_period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, null=True, blank=True, related_name="tallies"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status = models.CharField(max_length=10, choices=CasualtyStatus.choices, help_text="Of the people counted.")
    group = models.CharField(
        max_length=10, choices=CasualtyGroup.choices, default=CasualtyGroup.ALL, db_column="casualty_group"
    )
    low = models.PositiveIntegerField()
    best = models.PositiveIntegerField()
    high = models.PositiveIntegerField()
    qualifier = models.CharField(max_length=15, choices=Qualifier.choices, default=Qualifier.EXACT)
    reported_phrase = models.CharField(max_length=500, blank=True, help_text='As reported: "about 40 killed".')
    is_preferred = models.BooleanField(default=False, help_text="A reviewer's choice of best figure.")
    notes = models.TextField(blank=True)
    # Copies kept by triggers for the overlap constraint: the report's source and the period's range.
    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="tallies", editable=False)
    period = DateRangeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "casualty tallies"
        indexes = [
            models.Index(fields=["incident", "outcome", "status", "group"], name="casualties_tally_incident"),
            models.Index(fields=["region", "source"], name="casualties_tally_period_total"),
            # The period totals in id order, for their export: a few thousand among millions of incident figures.
            models.Index(fields=["id"], condition=Q(region__isnull=False), name="casualties_tally_total_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=low_best_high_ordered(), name="%(app_label)s_%(class)s_low_best_high"),
            models.CheckConstraint(
                condition=Q(incident__isnull=False, region__isnull=True, reporting_period__isnull=True)
                | Q(incident__isnull=True, region__isnull=False, reporting_period__isnull=False),
                name="%(app_label)s_%(class)s_one_target",
            ),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="%(app_label)s_%(class)s_outcome"),
            models.CheckConstraint(
                condition=Q(status__in=CasualtyStatus.values), name="%(app_label)s_%(class)s_status"
            ),
            models.CheckConstraint(condition=Q(group__in=CasualtyGroup.values), name="%(app_label)s_%(class)s_group"),
            models.CheckConstraint(
                condition=Q(qualifier__in=Qualifier.values), name="%(app_label)s_%(class)s_qualifier"
            ),
            models.UniqueConstraint(
                fields=["report", "incident", "outcome", "status", "group"],
                condition=Q(incident__isnull=False),
                name="%(app_label)s_%(class)s_one_figure_per_incident",
                violation_error_message=(
                    "This report already has a figure for this incident, outcome, status and group."
                ),
            ),
            models.UniqueConstraint(
                fields=["report", "region", "reporting_period", "outcome", "status", "group"],
                condition=Q(region__isnull=False),
                name="%(app_label)s_%(class)s_one_figure_per_period",
                violation_error_message=(
                    "This report already has a figure for this region, period, outcome, status and group."
                ),
            ),
            models.UniqueConstraint(
                fields=["incident", "outcome", "status", "group"],
                condition=Q(is_preferred=True),
                name="%(app_label)s_%(class)s_one_preferred",
                violation_error_message=(
                    "Another figure for this incident, outcome, status and group is already preferred."
                ),
            ),
            ExclusionConstraint(
                name="%(app_label)s_%(class)s_period_totals_no_overlap",
                expressions=[
                    ("source", RangeOperators.EQUAL),
                    ("region", RangeOperators.EQUAL),
                    ("outcome", RangeOperators.EQUAL),
                    ("status", RangeOperators.EQUAL),
                    ("group", RangeOperators.EQUAL),
                    ("period", RangeOperators.OVERLAPS),
                ],
                condition=Q(region__isnull=False),
                violation_error_message=(
                    "This source already has a total for this region, outcome, status and group "
                    "over a period that overlaps this one."
                ),
            ),
        ]
        triggers = [
            touch_updated_at(),
            pgtrigger.Trigger(
                name="tally_copies",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func="""
                SELECT source_id INTO NEW.source_id FROM sources_report WHERE id = NEW.report_id;
                IF NEW.reporting_period_id IS NULL THEN
                  NEW.period := NULL;
                ELSE
                  SELECT daterange(date_start, date_end, '[]') INTO NEW.period
                    FROM casualties_reportingperiod WHERE id = NEW.reporting_period_id;
                END IF;
                RETURN NEW;
                """,
            ),
            # Deferred: it judges the row as it is at commit. The figures it compares share the row's report,
            # target, outcome and status: two lookups in the unique indexes of the two kinds of target
            # (one_figure_per_incident, one_figure_per_period), a handful of rows whatever the table size. Equal
            # incidents, or equal regions and periods, is IS NOT DISTINCT FROM on all three by the one_target check.
            pgtrigger.Trigger(
                name="tally_subgroup_within_all",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func="""
                DECLARE t casualties_casualtytally; clash record;
                BEGIN
                  SELECT * INTO t FROM casualties_casualtytally WHERE id = NEW.id;
                  IF NOT FOUND THEN
                    RETURN NULL;
                  END IF;
                  WITH same_key AS MATERIALIZED (
                    SELECT x.* FROM casualties_casualtytally x
                     WHERE x.report_id = t.report_id AND x.incident_id = t.incident_id
                       AND x.outcome = t.outcome AND x.status = t.status
                    UNION ALL
                    SELECT x.* FROM casualties_casualtytally x
                     WHERE x.report_id = t.report_id AND x.region_id = t.region_id
                       AND x.reporting_period_id = t.reporting_period_id
                       AND x.outcome = t.outcome AND x.status = t.status
                  )
                  SELECT sub.id AS sub_id, sub.casualty_group, sub.best AS sub_best, sub.high AS sub_high,
                         total.id AS all_id, total.best AS all_best, total.high AS all_high
                    INTO clash
                    FROM same_key sub
                    JOIN same_key total ON total.casualty_group = 'all' AND sub.casualty_group <> 'all'
                   WHERE (sub.id = t.id OR total.id = t.id)
                     AND (sub.best > total.best OR sub.high > total.high)
                   ORDER BY sub.id
                   LIMIT 1;
                  IF FOUND THEN
                    RAISE EXCEPTION
                      'tally %: the % figure (best %, high %) exceeds the all figure of tally % (best %, high %)',
                      clash.sub_id, clash.casualty_group, clash.sub_best, clash.sub_high,
                      clash.all_id, clash.all_best, clash.all_high
                      USING ERRCODE = 'check_violation';
                  END IF;
                  RETURN NULL;
                END;
                """,
            ),
            pgtrigger.Trigger(
                name="tally_estimates_insert",
                level=pgtrigger.Statement,
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(new="new_rows"),
                func=REFRESH_FROM.format("new_rows"),
            ),
            pgtrigger.Trigger(
                name="tally_estimates_update",
                level=pgtrigger.Statement,
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(old="old_rows", new="new_rows"),
                func=REFRESH_FROM.format(
                    "(SELECT incident_id FROM old_rows UNION SELECT incident_id FROM new_rows) AS t"
                ),
            ),
            pgtrigger.Trigger(
                name="tally_estimates_delete",
                level=pgtrigger.Statement,
                operation=pgtrigger.Delete,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(old="old_rows"),
                func=REFRESH_FROM.format("old_rows"),
            ),
        ]

    def __str__(self) -> str:
        group = "" if self.group == CasualtyGroup.ALL else f" ({self.get_group_display()})"
        return f"{self.best} {self.get_status_display().lower()} {self.get_outcome_display().lower()}{group}"

    def save(self, *args, **kwargs):
        self.fill_bounds()
        self.copy_denormalized()
        super().save(*args, **kwargs)

    @property
    def is_period_total(self) -> bool:
        return self.region_id is not None

    def fill_bounds(self) -> None:
        """Staff may type only ``best``: an empty low or high is the best figure."""
        if self.best is not None:
            if self.low is None:
                self.low = self.best
            if self.high is None:
                self.high = self.best

    def copy_denormalized(self) -> None:
        """The report's source and the period's range, as the database triggers will store them."""
        if self.report_id:
            self.source_id = self.report.source_id
        if self.reporting_period_id:
            rp = self.reporting_period
            self.period = Range(rp.date_start, rp.date_end + datetime.timedelta(days=1), "[)")
        else:
            self.period = None

    def clean(self) -> None:
        self.fill_bounds()
        errors = {}
        # An incident being created with its figures is not saved yet, but is already their target.
        has_incident = self.incident_id is not None or (
            CasualtyTally.incident.is_cached(self) and self.incident is not None
        )
        has_period_target = self.region_id is not None or self.reporting_period_id is not None
        if has_incident and has_period_target:
            errors["incident"] = "A figure is about an incident or about a region over a period, not both."
        elif not has_incident and not (self.region_id and self.reporting_period_id):
            errors["region" if not self.region_id else "reporting_period"] = (
                "Give an incident, or a region and a reporting period."
            )
        if None not in (self.low, self.best, self.high):
            if self.low > self.best:
                errors["low"] = f"The low figure ({self.low}) is above the best ({self.best})."
            if self.high < self.best:
                errors["high"] = f"The high figure ({self.high}) is below the best ({self.best})."
        if errors:
            raise ValidationError(errors)
        self.copy_denormalized()


class Estimate(models.Model):
    """The consolidated figure for one incident, outcome, status and group, derived from its tallies.

    low = the smallest low, high = the largest high, best = the preferred tally's best, else that of
    the most recently published report. Maintained by database triggers in the same transaction as the
    tallies; ``manage.py rebuild_estimates`` recomputes it from scratch.
    """

    incident = models.ForeignKey("Incident", on_delete=models.CASCADE, related_name="estimates")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status = models.CharField(max_length=10, choices=CasualtyStatus.choices)
    group = models.CharField(max_length=10, choices=CasualtyGroup.choices, db_column="casualty_group")
    low = models.PositiveIntegerField()
    best = models.PositiveIntegerField()
    high = models.PositiveIntegerField()
    source_count = models.PositiveIntegerField()
    best_tally = models.ForeignKey(CasualtyTally, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)

    class Meta:
        ordering = ["incident", "outcome", "status", "group"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "outcome", "status", "group"], name="%(app_label)s_%(class)s_unique_key"
            ),
            models.CheckConstraint(condition=low_best_high_ordered(), name="%(app_label)s_%(class)s_low_best_high"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.outcome}/{self.status}/{self.group} {self.low}-{self.best}-{self.high}"
