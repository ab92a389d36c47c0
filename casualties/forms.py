"""Admin forms: every invariant of the casualty model as an error at the field it concerns.

The database enforces the same rules; these forms say what is wrong before it has to, and name
the record a new figure clashes with.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError

from core.forms import LoadedAtForm

from .models import CasualtyTally, Incident, ReportingPeriod
from .services import StaleVersionError, lock_current_version, period_total_errors, subgroup_errors, tally_check_read


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


class TallyForm(LoadedAtForm):
    """One figure; staff may type only ``best`` and the bounds follow it. Carries when it was loaded, so a
    figure changed meanwhile is not overwritten."""

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

    def check_read(self, record: CasualtyTally, read_at: datetime.datetime) -> None:
        tally_check_read(record, read_at)

    def _post_clean(self):
        # A saved figure sent back as it was loaded (and not changed since: its loaded_at would differ) is not
        # written, so its model checks are not run again: a page of figures costs the checks of the ones changed.
        # The figures of the page are still checked together by the formset.
        if self.instance.pk is not None and not self.has_changed():
            return
        super()._post_clean()


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
            key = (data.get("report"), data.get("outcome"), data.get("status"), data.get("group"))
            if key in seen:
                form.add_error("group", "This report already has a figure for this outcome, status and group here.")
            seen.setdefault(key, form)
            if data.get("is_preferred"):
                pref_key = key[1:]
                if pref_key in preferred:
                    form.add_error("is_preferred", "Only one figure per outcome, status and group can be preferred.")
                preferred.setdefault(pref_key, form)
        changed = [form.instance for form in live if form.has_changed() or form.instance.pk is None]
        by_instance = {id(form.instance): form for form in live}
        for tally, message in subgroup_errors(figures=[form.instance for form in live], written=changed):
            by_instance[id(tally)].add_error("best", message)


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
        if not self.errors:
            for name, message in period_total_errors(tally=self.instance).items():
                self.add_error(name, message)
