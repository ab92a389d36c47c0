"""Template tags of the incident change list."""

from __future__ import annotations

import copy
import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db.models import Max, Min

register = template.Library()


class SpanDates:
    """Stands in for the change list's queryset in the date hierarchy: the years and months between the
    first and last date, from one MIN/MAX over the date index, instead of a DISTINCT over every row.
    Days still come from the rows (a month of them is a small range scan).
    """

    def __init__(self, queryset):
        self.queryset = queryset

    def aggregate(self, *args, **kwargs):
        return self.queryset.aggregate(*args, **kwargs)

    def dates(self, field_name: str, kind: str) -> list[datetime.date]:
        if kind == "day":
            return list(self.queryset.dates(field_name, kind))
        span = self.queryset.aggregate(first=Min(field_name), last=Max(field_name))
        first, last = span["first"], span["last"]
        if first is None:
            return []
        if kind == "year":
            return [datetime.date(year, 1, 1) for year in range(first.year, last.year + 1)]
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append(datetime.date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


@register.inclusion_tag("admin/date_hierarchy.html")
def span_date_hierarchy(cl):
    """The admin's date hierarchy, with years and months from the date range rather than from every row."""
    light = copy.copy(cl)
    light.queryset = SpanDates(cl.queryset)
    return date_hierarchy(light)
