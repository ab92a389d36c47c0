"""Period totals: a source's figure for a region over a reporting period, and the periods themselves."""

from __future__ import annotations

from django.contrib import admin

from core.history import AuditHistoryMixin

from ..forms import PeriodTotalForm, ReportingPeriodForm
from ..models import CasualtyTally, ReportingPeriod
from .common import RegionAutocompleteSelect


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = ReportingPeriodForm
    list_display = ["__str__", "date_start", "date_end", "label"]
    search_fields = ["label", "date_start", "date_end"]
    search_help_text = "Label as the source put it, or a date (2017-07-20)."
    date_hierarchy = "date_start"


@admin.register(CasualtyTally)
class PeriodTotalAdmin(AuditHistoryMixin, admin.ModelAdmin):
    """Period totals only: figures about incidents are entered on the incident's page."""

    form = PeriodTotalForm
    list_display = ["source", "region", "reporting_period", "outcome", "status", "group", "low", "best", "high"]
    list_select_related = ["source", "region", "reporting_period"]
    list_filter = ["source", "outcome", "status", "group"]
    search_fields = ["report__title", "region__name", "reported_phrase"]
    autocomplete_fields = ["report", "reporting_period"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(region__isnull=False)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["widget"] = RegionAutocompleteSelect(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Period totals", **(extra_context or {})})
