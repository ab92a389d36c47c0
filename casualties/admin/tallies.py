"""Period totals: a source's figure for a region over a reporting period, and the periods themselves."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ServiceRefusalsMixin
from core.history import AuditHistoryMixin

from ..forms import PeriodTotalForm, ReportingPeriodForm
from ..models import CasualtyTally, ReportingPeriod
from ..roles import can_change_period_total, period_change_refusal
from ..services import tally_create, tally_delete, tally_update
from ..services.tallies import WRITABLE_FIELDS
from .common import ReferenceAdmin, RegionAutocompleteSelect


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(ReferenceAdmin):
    form = ReportingPeriodForm
    list_display = ["__str__", "date_start", "date_end", "label"]
    search_fields = ["label", "date_start", "date_end"]
    search_help_text = "Label as the source put it, or a date (2017-07-20)."
    date_hierarchy = "date_start"

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        in_use = CasualtyTally.objects.filter(reporting_period=obj).count()
        return period_change_refusal(request.user, period_total_count=in_use) is None


@admin.register(CasualtyTally)
class PeriodTotalAdmin(ServiceRefusalsMixin, AuditHistoryMixin, admin.ModelAdmin):
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

    # An existing period total is public: data entry add new ones, reviewers correct and delete them.
    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_change_period_total(request.user))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or can_change_period_total(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["widget"] = RegionAutocompleteSelect(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Every write goes through the tally services, which check the roles and the rules again.

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in WRITABLE_FIELDS if name in form.cleaned_data}
        if change:
            updated = tally_update(
                user=request.user, tally=obj, read_at=form.cleaned_data.get("loaded_at"), changes=values
            )
            obj.pk, obj.updated_at = updated.pk, updated.updated_at
        else:
            created, _ = tally_create(user=request.user, **values)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        tally_delete(user=request.user, tally=obj)

    def delete_queryset(self, request, queryset):
        for tally in queryset.order_by("pk"):
            tally_delete(user=request.user, tally=tally)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Period totals", **(extra_context or {})})
