"""Admin for sources and their reports, and the audit-trail history page every audited model shares."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ServiceRefusalsMixin
from core.forms import LoadedAtForm
from core.history import AuditHistoryMixin

from .models import Report, Source
from .services import WRITABLE_FIELDS, report_change_refusal, report_create, report_update


class ReportForm(LoadedAtForm):
    url = forms.URLField(max_length=1000, required=False, assume_scheme="https", label="URL")
    archive_url = forms.URLField(
        max_length=1000, required=False, assume_scheme="https", help_text="A permanent copy (e.g. web archive)."
    )

    class Meta:
        model = Report
        fields = [
            "source",
            "title",
            "url",
            "archive_url",
            "published_on",
            "language",
            "external_id",
            "credibility",
            "summary",
        ]


@admin.register(Source)
class SourceAdmin(AuditHistoryMixin, admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "acronym", "kind", "country", "reliability"]
    list_filter = ["kind", "reliability"]
    search_fields = ["name", "acronym"]
    readonly_fields = ["reports_panel"]
    fields = ["name", "acronym", "kind", "country", "website", "reliability", "description", "reports_panel"]

    # How many of a source's reports its page lists; the rest are one click away.
    reports_shown = 50

    @admin.display(description="Reports")
    def reports_panel(self, obj: Source) -> str:
        if obj.pk is None:
            return "—"
        reports = list(obj.reports.order_by("-published_on", "-id")[: self.reports_shown + 1])
        if not reports:
            return "No reports yet."
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> — {}</li>',
            (
                (reverse("admin:sources_report_change", args=[report.pk]), report.title, f"{report.published_on}")
                for report in reports[: self.reports_shown]
            ),
        )
        all_link = reverse("admin:sources_report_changelist") + f"?source__id__exact={obj.pk}"
        more = "All reports of this source" if len(reports) > self.reports_shown else "As a list"
        return format_html('<ul class="source-reports">{}</ul><p><a href="{}">{}</a></p>', items, all_link, more)


@admin.register(Report)
class ReportAdmin(ServiceRefusalsMixin, AuditHistoryMixin, admin.ModelAdmin):
    form = ReportForm
    list_display = ["title", "source", "published_on", "language", "url"]
    list_select_related = ["source"]
    list_filter = ["source", "language"]
    search_fields = ["title", "url", "external_id"]
    search_help_text = "Title, URL or external id."
    autocomplete_fields = ["source"]
    date_hierarchy = "published_on"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or report_change_refusal(user=request.user, report=obj) is None)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # A report shown read-only to someone whose role edits reports says why, and who may change it.
        if obj is not None and request.method == "GET" and super().has_change_permission(request, obj):
            refusal = report_change_refusal(user=request.user, report=obj)
            if refusal:
                messages.info(request, refusal)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in WRITABLE_FIELDS if name in form.cleaned_data}
        if change:
            updated = report_update(
                user=request.user, report=obj, read_at=form.cleaned_data["loaded_at"], changes=values
            )
            obj.updated_at = updated.updated_at
        else:
            created, _ = report_create(user=request.user, **values)
            obj.pk = created.pk
