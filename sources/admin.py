"""Admin for sources and their reports, and the audit-trail history page every audited model shares."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from pghistory.models import MiddlewareEvents

from .models import Report, Source

# Fields that change on every save and say nothing about what was changed.
_QUIET_FIELDS = {"updated_at", "version", "search_names", "path"}


@dataclass
class AuditEvent:
    """One row of a history page: who did what to which record, and the values before and after."""

    at: datetime.datetime
    user: str
    action: str
    record: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def audit_events(obj, *, related: bool = False, limit: int = 500) -> list[AuditEvent]:
    """The audit events of ``obj`` (and, with ``related``, of the rows that refer to it), newest first.

    Events are written by database triggers, so changes made outside the admin (the API, the shell,
    bulk updates, raw SQL) are listed too; those made outside a web request have no user.
    """
    events = MiddlewareEvents.objects.references(obj) if related else MiddlewareEvents.objects.tracks(obj)
    rows = list(events.order_by("-pgh_created_at", "-pgh_id")[:limit])
    user_ids = {row.pgh_context.get("user") for row in rows if row.pgh_context and row.pgh_context.get("user")}
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    result = []
    for row in rows:
        user_id = (row.pgh_context or {}).get("user")
        if row.pgh_label == "update":
            changes = [(name, old, new) for name, (old, new) in sorted((row.pgh_diff or {}).items())]
        else:
            changes = [(name, None, value) for name, value in sorted((row.pgh_data or {}).items())]
        shown = [change for change in changes if change[0] not in _QUIET_FIELDS]
        if row.pgh_label == "update" and changes and not shown:
            shown = changes
        result.append(
            AuditEvent(
                at=row.pgh_created_at,
                user=names.get(user_id, f"user #{user_id}") if user_id else "",
                action=row.pgh_label,
                record=f"{row.pgh_obj_model.split('.')[-1]} #{row.pgh_obj_id}",
                changes=shown,
            )
        )
    return result


class AuditHistoryMixin:
    """Replaces the admin's history page with the database audit trail of the object."""

    object_history_template = "admin/audit_history.html"
    history_includes_related = False

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "events": audit_events(obj, related=self.history_includes_related),
            "includes_related": self.history_includes_related,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)


class ReportForm(forms.ModelForm):
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

    def clean(self):
        cleaned = super().clean()
        published = cleaned.get("published_on")
        if published and published > (timezone.now() + datetime.timedelta(hours=14)).date():
            self.add_error("published_on", f"{published:%Y-%m-%d} is in the future.")
        source = cleaned.get("source")
        for name in ("url", "external_id"):
            value = cleaned.get(name)
            if not (source and value):
                continue
            same = Report.objects.filter(source=source, **{name: value}).exclude(pk=self.instance.pk).first()
            if same is not None:
                label = "URL" if name == "url" else "external id"
                self.add_error(name, f"{source} already has a report with this {label}: “{same.title}” (#{same.pk}).")
        return cleaned


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
class ReportAdmin(AuditHistoryMixin, admin.ModelAdmin):
    form = ReportForm
    list_display = ["title", "source", "published_on", "language", "url"]
    list_select_related = ["source"]
    list_filter = ["source", "language"]
    search_fields = ["title", "url", "external_id"]
    search_help_text = "Title, URL or external id."
    autocomplete_fields = ["source"]
    date_hierarchy = "published_on"
    show_full_result_count = False
