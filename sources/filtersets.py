"""Query parameters of the source and report lists, and the filter pieces the casualty filtersets share.

A parameter naming something (a source, a region, an actor) is resolved while the query is
validated, so an unknown name is a 400 that names the parameter, never an empty list.
"""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from core.filters import ChoicesFilter, OrderingFilter, ResolvingFilter, positive_id, updated_since_filter

from .choices import SourceKind
from .models import Report, Source


def sources_named(value: str) -> QuerySet:
    """The sources a ``source`` parameter names: an id, an acronym or a full name (case-insensitive)."""
    source_id = positive_id(value)
    if source_id is not None:
        found = Source.objects.filter(pk=source_id)
    else:
        found = Source.objects.filter(Q(acronym__iexact=value) | Q(name__iexact=value))
    if not found.exists():
        raise forms.ValidationError(
            "No source has the id, acronym or name %(value)r.", code="unknown", params={"value": value}
        )
    return found


def report_by_id(value: str) -> Report:
    report_id = positive_id(value)
    report = Report.objects.filter(pk=report_id).first() if report_id is not None else None
    if report is None:
        raise forms.ValidationError("No report has the id %(value)r.", code="unknown", params={"value": value})
    return report


class SourceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", help_text="Text in the name or acronym (case-insensitive).")
    kind = ChoicesFilter(choices=SourceKind.choices, help_text="Kind of organisation.")
    country = django_filters.CharFilter(
        method="filter_country", help_text="ISO 3166-1 alpha-3 code of the source's seat (e.g. SYR, GBR)."
    )
    updated_since = updated_since_filter()
    ordering = OrderingFilter(orderings={"name": ("name", "id"), "-updated_at": ("-updated_at", "-id")})

    class Meta:
        model = Source
        fields = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(acronym__icontains=value))

    def filter_country(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(country=value.upper())


class ReportFilterSet(django_filters.FilterSet):
    source = ResolvingFilter(
        resolve=sources_named, method="filter_source", help_text="A source's id, acronym (e.g. SOHR) or name."
    )
    published_from = django_filters.DateFilter(
        field_name="published_on", lookup_expr="gte", help_text="Published on or after this date (YYYY-MM-DD)."
    )
    published_to = django_filters.DateFilter(
        field_name="published_on", lookup_expr="lte", help_text="Published on or before this date (YYYY-MM-DD)."
    )
    language = django_filters.CharFilter(help_text="ISO 639 language code, e.g. ar or en.")
    external_id = django_filters.CharFilter(help_text="The source's or a client's own id for the report.")
    q = django_filters.CharFilter(method="search", help_text="Text in the title or summary (case-insensitive).")
    updated_since = updated_since_filter()
    ordering = OrderingFilter(
        orderings={
            "-published_on": ("-published_on", "-id"),
            "published_on": ("published_on", "id"),
            "-updated_at": ("-updated_at", "-id"),
            "updated_at": ("updated_at", "id"),
        }
    )

    class Meta:
        model = Report
        fields = []

    def filter_source(self, queryset: QuerySet, name: str, value: QuerySet) -> QuerySet:
        return queryset.filter(source__in=value)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(title__icontains=value) | Q(summary__icontains=value))
