"""Admin for sources and their reports, and the audit-trail history page every audited model shares."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ServiceRefusalsMixin
from core.forms import LoadedAtForm
from core.history import AuditHistoryMixin

from .models import Report, Source
from .selectors import similar_reports
from .services import WRITABLE_FIELDS, report_change_refusal, report_create, report_update


class ReportForm(LoadedAtForm):
    url = forms.URLField(max_length=1000, required=False, assume_scheme="https", label="URL")
    archive_url = forms.URLField(
        max_length=1000, required=False, assume_scheme="https", help_text="A permanent copy (e.g. web archive)."
    )
    not_a_duplicate = forms.BooleanField(
        required=False,
        label="Not the same report",
        help_text="Tick to save although this source has a report of the same day with a similar title.",
    )

    def clean(self):
        cleaned = super().clean()
        source, published_on, title = (cleaned.get(name) for name in ("source", "published_on", "title"))
        if source and published_on and title and not cleaned.get("not_a_duplicate"):
            similar = list(
                similar_reports(source=source, published_on=published_on, title=title, exclude_pk=self.instance.pk)
            )
            if similar:
                links = format_html_join(
                    ", ",
                    '<a href="{}" target="_blank">{}</a>',
                    ((reverse("admin:sources_report_change", args=[r.pk]), str(r)) for r in similar),
                )
                self.add_error(
                    None,
                    ValidationError(
                        format_html(
                            "This may be a report already entered: {}. Open it to check; if this is a different "
                            "report, tick \u201cNot the same report\u201d and save again.",
                            links,
                        ),
                        code="similar_report",
                    ),
                )
        return cleaned

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


ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
DAY_FIRST_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def published_on_filter(word: str) -> dict[str, object] | None:
    """The publication-date lookup a search word stands for (a day, a month or a year), or None."""
    if match := DAY_FIRST_DATE.match(word):
        day, month, year = (int(part) for part in match.groups())
    elif match := ISO_DATE.match(word):
        year, month, day = (int(part) if part else None for part in match.groups())
        if month is None:
            return {"published_on__year": year} if 1900 <= year <= 2100 else None
        if day is None:
            return {"published_on__year": year, "published_on__month": month} if 1 <= month <= 12 else None
    else:
        return None
    try:
        return {"published_on": datetime.date(year, month, day)}
    except ValueError:
        return None


@admin.register(Report)
class ReportAdmin(ServiceRefusalsMixin, AuditHistoryMixin, admin.ModelAdmin):
    form = ReportForm
    list_display = ["title", "source", "published_on", "language", "url"]
    list_select_related = ["source"]
    list_filter = ["source", "language"]
    search_fields = ["title", "url", "external_id", "source__acronym", "source__name"]
    search_help_text = (
        "Words of the title, URL, external id or source (name or acronym), and a publication date: "
        "2017-07-20, 20/07/2017, 2017-07 or 2017."
    )
    autocomplete_fields = ["source"]
    date_hierarchy = "published_on"
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        """Words as Django searches them (each in one of the fields), and dates as the day, month or year of
        publication; the report picker of incident and figure pages searches the same way."""
        words = []
        for word in search_term.split():
            published = published_on_filter(word)
            if published is None:
                words.append(word)
            else:
                queryset = queryset.filter(**published)
        return super().get_search_results(request, queryset, " ".join(words))

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
