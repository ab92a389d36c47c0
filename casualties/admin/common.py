"""Admin pieces the casualty admins share: a paginator for big tables, the region picker."""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.paginator import Paginator
from django.db import connection
from django.urls import reverse
from django.utils.functional import cached_property

from core.admin import ServiceRefusalsMixin, ServiceSavesMixin
from core.history import AuditHistoryMixin

from ..models import Region
from ..search import text_contains
from ..services import reference_delete, reference_save

# Below this many rows an exact count is cheap enough to run on every page.
EXACT_COUNT_BELOW = 10_000


class EstimatedCountPaginator(Paginator):
    """Counts exactly when few rows match; when the planner expects many, takes its estimate instead.

    A COUNT(*) over a million incidents reads them all on every page load; the planner's row
    estimate (from the table statistics) costs a plan, not a scan.
    """

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None:
            estimate = planner_row_estimate(self.object_list)
            if estimate >= EXACT_COUNT_BELOW:
                return estimate
        return super().count


def formset_changes(formset) -> tuple[list, list]:
    """An inline formset's rows to write and to delete, for the services; noted as the formset's own saving would
    note them, for the admin's history message."""
    deleted = [form for form in formset.deleted_forms if form.instance.pk is not None]
    changed = [form for form in formset.forms if form.has_changed() and form not in formset.deleted_forms]
    formset.new_objects = [form.instance for form in changed if form.instance.pk is None]
    formset.changed_objects = [(form.instance, form.changed_data) for form in changed if form.instance.pk]
    formset.deleted_objects = [form.instance for form in deleted]
    return [form.instance for form in changed], formset.deleted_objects


def planner_row_estimate(queryset) -> int:
    """How many rows PostgreSQL's planner expects ``queryset`` to return."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def region_chains(regions) -> dict[int, str]:
    """Each region's label with its parent chain, "Saraqib (SY070003) — Syria > Idlib > Idlib", in one query."""
    codes = {code for region in regions for code in region.ancestor_codes}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    labels = {}
    for region in regions:
        local = f" / {region.name_local}" if region.name_local else ""
        chain = " > ".join(names.get(code, code) for code in region.ancestor_codes)
        labels[region.pk] = f"{region.name}{local} ({region.code})" + (f" — {chain}" if chain else "")
    return labels


class RegionAutocompleteView(AutocompleteJsonView):
    """The region picker's search: labels carry the parent chain, so same-named places can be told apart."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.chains = region_chains(list(context["object_list"]))
        return context

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": self.chains.get(obj.pk, str(obj))}


class RegionAutocompleteSelect(AutocompleteSelect):
    """A region field searched by any name or spelling, showing where each match lies."""

    def get_url(self):
        return reverse(f"{self.admin_site.name}:casualties_region_autocomplete")

    def optgroups(self, name, value, attr=None):
        groups = super().optgroups(name, value, attr)
        chosen = [v for v in value if v]
        if chosen:
            labels = {str(pk): label for pk, label in region_chains(Region.objects.filter(pk__in=chosen)).items()}
            for _group, options, _index in groups:
                for option in options:
                    option["label"] = labels.get(str(option["value"]), option["label"])
        return groups


def region_search(queryset, term: str):
    """Regions any of whose names, spellings or codes contain ``term`` (trigram-indexed), coarsest first."""
    term = term.strip()
    if not term:
        return queryset
    return queryset.filter(text_contains(term, "search_names", stored_folded=True)).order_by("level", "name")


class ReferenceAdmin(ServiceRefusalsMixin, ServiceSavesMixin, AuditHistoryMixin, admin.ModelAdmin):
    """Reference records, saved and deleted by the reference services."""

    save_service = reference_save
    delete_service = reference_delete
