"""Filter pieces every FilterSet shares: parameters that name objects, orderings, UTC timestamps, and the
refusal of parameters an endpoint does not know.

A parameter naming something (a source, a region, an actor) is resolved while the query is
validated, so an unknown name is a 400 that names the parameter, never an empty list; so is a
parameter the endpoint does not take at all.
"""

import datetime
import difflib
from collections.abc import Callable, Iterable

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.settings import api_settings


class ResolvingField(forms.CharField):
    """A text parameter that ``resolve`` turns into what it names, or rejects with a message."""

    def __init__(self, *, resolve: Callable[[str], object], **kwargs):
        self.resolve = resolve
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return self.resolve(value.strip())


class ResolvingFilter(django_filters.CharFilter):
    """A filter whose value names an object; pass ``resolve`` and a ``method`` that uses what it returns."""

    field_class = ResolvingField


class ChoicesField(django_filters.fields.MultipleChoiceField):
    """Several choices; an empty value (``status=``) is the same as none."""

    def clean(self, value):
        return super().clean([choice for choice in value or [] if choice != ""])


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    """A parameter taking one or more of fixed values; repeat it for several, leave it empty for no filter."""

    field_class = ChoicesField


class OrderingFilter(django_filters.ChoiceFilter):
    """``ordering``: a choice of sort keys, each ending in a unique column so cursor pages stay stable.

    ``orderings`` maps the parameter value to the ORDER BY columns.
    """

    def __init__(self, *, orderings: dict[str, tuple[str, ...]], **kwargs):
        self.orderings = orderings
        choices = [(key, key) for key in orderings]
        kwargs.setdefault(
            "help_text",
            "Sort order; a leading '-' sorts descending. Ties are broken by id, so cursor pages are stable.",
        )
        super().__init__(choices=choices, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        return qs.order_by(*self.orderings[value])


def positive_id(value: str) -> int | None:
    """``value`` as a database id if it is one (a positive whole number), else None."""
    if value.isascii() and value.isdigit() and 0 < int(value) < 2**63:
        return int(value)
    return None


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, taken to UTC; offsets the database cannot store are refused here."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def updated_since_filter() -> django_filters.IsoDateTimeFilter:
    return UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only rows changed at or after this ISO 8601 date-time (e.g. 2017-07-20T00:00:00Z), for sync.",
    )


def filter_parameters(filterset_class: type, *, exclude: Iterable[str] = ()) -> list[OpenApiParameter]:
    """A FilterSet's parameters as the schema states them on a view that is not a list (aggregates, exports):
    dates as dates, choices as their values, repeatable ones as arrays, as on the lists."""
    multiple = (django_filters.MultipleChoiceFilter, django_filters.ModelMultipleChoiceFilter)
    types = [
        (django_filters.IsoDateTimeFilter, OpenApiTypes.DATETIME),
        (django_filters.DateFilter, OpenApiTypes.DATE),
        (django_filters.UUIDFilter, OpenApiTypes.UUID),
    ]
    parameters = []
    for name, f in filterset_class.base_filters.items():
        if name in exclude:
            continue
        kind = next((kind for filter_class, kind in types if isinstance(f, filter_class)), str)
        choices = f.extra.get("choices") if isinstance(f, (django_filters.ChoiceFilter, *multiple)) else None
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                description=str(f.extra.get("help_text", "")),
                enum=[str(value) for value, _ in choices] if choices else None,
                many=isinstance(f, multiple) or None,
            )
        )
    return parameters


def unknown_parameter_message(name: str, known: Iterable[str]) -> str:
    """What an unknown query parameter is told: that it is unknown, and the known one it may have meant."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"Unknown parameter; did you mean {close[0]}?" if close else "Unknown parameter."


def refuse_unknown_parameters(params: Iterable[str], known: Iterable[str]) -> None:
    """A query naming a parameter the endpoint does not take is a 400, ``{name: [message]}`` per unknown name,
    so a mistyped filter is never silently dropped from the answer."""
    known = set(known)
    unknown = sorted(set(params) - known)
    if unknown:
        raise exceptions.ValidationError({name: [unknown_parameter_message(name, known)] for name in unknown})


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend that refuses unknown parameters: every list and detail under /api/v1/ uses it.

    Known are the view's FilterSet parameters, its paginator's (``cursor``, ``page_size``) and ``format``.
    """

    def filter_queryset(self, request, queryset, view):
        refuse_unknown_parameters(request.query_params, self.known_parameters(request, queryset, view))
        return super().filter_queryset(request, queryset, view)

    def known_parameters(self, request, queryset, view) -> set[str]:
        known = {api_settings.URL_FORMAT_OVERRIDE}
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        paginator = getattr(view, "paginator", None)
        for attribute in ("cursor_query_param", "page_size_query_param", "page_query_param", "limit_query_param"):
            if getattr(paginator, attribute, None):
                known.add(getattr(paginator, attribute))
        return known
