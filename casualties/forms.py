"""Admin forms: every invariant of the casualty model as an error at the field it concerns.

The database enforces the same rules; these forms say what is wrong before it has to, and name
the record a new figure clashes with.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from psycopg.types.range import Range

from .choices import CasualtyGroup, LocationPrecision
from .models import CasualtyTally, Incident, ReportingPeriod
from .services import StaleVersionError, lock_current_version


def _latest_allowed_date() -> datetime.date:
    """Today anywhere on Earth (UTC+14), as the database's not-in-future checks allow."""
    return (timezone.now() + datetime.timedelta(hours=14)).date()


def date_range_errors(form: forms.Form, start_field: str = "date_start", end_field: str = "date_end") -> None:
    """A date range that ends before it starts, or lies in the future, as errors at the date concerned."""
    start, end = form.cleaned_data.get(start_field), form.cleaned_data.get(end_field)
    latest = _latest_allowed_date()
    for name, value in ((start_field, start), (end_field, end)):
        if value and value > latest:
            form.add_error(name, f"{value:%Y-%m-%d} is in the future; record only what has happened.")
    if start and end and end < start and end_field not in form.errors:
        form.add_error(end_field, f"The end ({end:%Y-%m-%d}) is before the start ({start:%Y-%m-%d}).")


class IncidentForm(forms.ModelForm):
    """The incident page's form; carries the version it was loaded at, so a stale save is refused."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    latitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False)
    longitude = forms.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False)

    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "incident_type",
            "date_start",
            "date_end",
            "date_precision",
            "region",
            "place_name",
            "location_precision",
            "latitude",
            "longitude",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        date_range_errors(self)
        precision = cleaned.get("location_precision")
        if precision in (LocationPrecision.EXACT, LocationPrecision.NEAR) and cleaned.get("latitude") is None:
            self.add_error("latitude", "An exact or nearby location needs its latitude and longitude.")
        self._check_version()
        return cleaned

    def _check_version(self) -> None:
        """Lock the row and compare versions; the lock is held until the admin's transaction commits."""
        if self.instance.pk is None:
            return
        loaded = self.cleaned_data.get("loaded_version")
        try:
            lock_current_version(self.instance, loaded if loaded is not None else self.instance.version)
        except StaleVersionError as error:
            raise ValidationError(str(error), code="stale") from error


class ReportingPeriodForm(forms.ModelForm):
    class Meta:
        model = ReportingPeriod
        fields = ["date_start", "date_end", "label"]

    def clean(self):
        cleaned = super().clean()
        date_range_errors(self)
        return cleaned


class TallyForm(forms.ModelForm):
    """One figure; staff may type only ``best`` and the bounds follow it."""

    low = forms.IntegerField(min_value=0, required=False, help_text="Empty: the best figure.")
    best = forms.IntegerField(min_value=0)
    high = forms.IntegerField(min_value=0, required=False, help_text="Empty: the best figure.")

    class Meta:
        model = CasualtyTally
        fields = [
            "report",
            "outcome",
            "status",
            "group",
            "low",
            "best",
            "high",
            "qualifier",
            "reported_phrase",
            "is_preferred",
        ]

    def clean(self):
        cleaned = super().clean()
        best = cleaned.get("best")
        if best is None:
            return cleaned
        low = cleaned["low"] if cleaned.get("low") is not None else best
        high = cleaned["high"] if cleaned.get("high") is not None else best
        if "low" not in self.errors and "high" not in self.errors:
            cleaned["low"], cleaned["high"] = low, high
            if low > best:
                self.add_error("low", f"The low figure ({low}) is above the best ({best}).")
            if high < best:
                self.add_error("high", f"The high figure ({high}) is below the best ({best}).")
        return cleaned


class TallyInlineForm(TallyForm):
    """A figure on the incident page; carries when it was loaded, so a figure changed meanwhile is not overwritten."""

    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get("loaded_at")
        if self.instance.pk is not None and loaded and loaded != self.instance.updated_at.isoformat():
            raise ValidationError(
                f"This figure was changed by someone else after you loaded the page (it now reads "
                f"{self.instance.low}-{self.instance.best}-{self.instance.high}). Reload the page and apply "
                "your changes again.",
                code="stale",
            )
        return cleaned


def _key(cleaned: dict) -> tuple:
    return (cleaned.get("report"), cleaned.get("outcome"), cleaned.get("status"))


class TallyInlineFormSet(forms.BaseInlineFormSet):
    """An incident's figures, checked together: one per report and key, subgroups within their ``all``."""

    def clean(self):
        super().clean()
        live = [
            form for form in self.forms if form.cleaned_data and not form.errors and not self._should_delete_form(form)
        ]
        seen: dict[tuple, TallyForm] = {}
        preferred: dict[tuple, TallyForm] = {}
        for form in live:
            data = form.cleaned_data
            key = (*_key(data), data.get("group"))
            if key in seen:
                form.add_error("group", "This report already has a figure for this outcome, status and group here.")
            seen.setdefault(key, form)
            if data.get("is_preferred"):
                pref_key = key[1:]
                if pref_key in preferred:
                    form.add_error("is_preferred", "Only one figure per outcome, status and group can be preferred.")
                preferred.setdefault(pref_key, form)
        for key, form in seen.items():
            group = key[3]
            total = seen.get((*key[:3], CasualtyGroup.ALL))
            if group == CasualtyGroup.ALL or total is None:
                continue
            sub, whole = form.cleaned_data, total.cleaned_data
            if sub["best"] > whole["best"] or sub["high"] > whole["high"]:
                form.add_error(
                    "best",
                    f"The {CasualtyGroup(group).label} figure (best {sub['best']}, high {sub['high']}) exceeds the "
                    f"figure for all from the same report (best {whole['best']}, high {whole['high']}).",
                )


class PeriodTotalForm(TallyForm):
    """A source's total for a region over a reporting period; overlapping totals are refused by name."""

    class Meta:
        model = CasualtyTally
        fields = [
            "report",
            "region",
            "reporting_period",
            "outcome",
            "status",
            "group",
            "low",
            "best",
            "high",
            "qualifier",
            "reported_phrase",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].required = True
        self.fields["reporting_period"].required = True

    def _post_clean(self):
        # After the model's own checks, so the period is still set on the instance when they run.
        super()._post_clean()
        if self.errors:
            return
        cleaned = self.cleaned_data
        report, region, period = cleaned["report"], cleaned["region"], cleaned["reporting_period"]
        clash = period_total_clash(
            tally=self.instance,
            source_id=report.source_id,
            region=region,
            period=period,
            outcome=cleaned["outcome"],
            status=cleaned["status"],
            group=cleaned["group"],
        )
        if clash is not None:
            self.add_error(
                "reporting_period",
                f"{report.source} already has a total for {clash.region} over {clash.reporting_period}, "
                f"which overlaps this period: {clash.best} {clash.get_outcome_display().lower()} "
                f"({clash.get_status_display().lower()}, {clash.get_group_display().lower()}) "
                f"from “{clash.report.title}” (figure #{clash.pk}).",
            )


def period_total_clash(*, tally, source_id, region, period, outcome, status, group) -> CasualtyTally | None:
    """The existing period total of the same source and key whose period overlaps ``period``, if any."""
    span = Range(period.date_start, period.date_end + datetime.timedelta(days=1), "[)")
    return (
        CasualtyTally.objects.filter(
            source_id=source_id, region=region, outcome=outcome, status=status, group=group, period__overlap=span
        )
        .exclude(pk=tally.pk)
        .select_related("report", "region", "reporting_period")
        .first()
    )
