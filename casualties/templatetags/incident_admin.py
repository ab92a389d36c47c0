"""Template tags of the incident change list."""

from __future__ import annotations

import copy
import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db.models import Max, Min

register = template.Library()


class SpanDates:
    """Stands in for the change list's queryset in the date hierarchy.

    Years and months are those between the first and last date of the whole table (within the
    chosen year), from a MIN/MAX over the date index, instead of a DISTINCT over every matching
    row; a year or month with nothing matching the other filters shows an empty list. Days come
    from the matching rows, a month of them at most.
    """

    def __init__(self, *, span, rows):
        self.span, self.rows = span, rows

    def aggregate(self, *args, **kwargs):
        return self.span.aggregate(*args, **kwargs)

    def dates(self, field_name: str, kind: str) -> list[datetime.date]:
        if kind == "day":
            return list(self.rows.dates(field_name, kind))
        bounds = self.span.aggregate(first=Min(field_name), last=Max(field_name))
        first, last = bounds["first"], bounds["last"]
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
    field = cl.date_hierarchy
    chosen = {
        f"{field}__{part}": int(cl.params[f"{field}__{part}"])
        for part in ("year", "month")
        if str(cl.params.get(f"{field}__{part}", "")).isdigit()
    }
    light = copy.copy(cl)
    light.queryset = SpanDates(span=cl.model._default_manager.filter(**chosen), rows=cl.queryset)
    return date_hierarchy(light)
