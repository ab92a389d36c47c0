"""Reference data: the gazetteer, actors and the incident-type vocabulary."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from ..models import Actor, ActorName, IncidentType, Region
from .common import ReferenceAdmin, RegionAutocompleteView, region_search


@admin.register(Region)
class RegionAdmin(ReferenceAdmin):
    list_display = ["name", "name_local", "code", "iso_code", "level", "path"]
    list_filter = ["level"]
    # The search runs on search_names (every name and spelling, lower-cased); see get_search_results.
    search_fields = ["search_names"]
    search_help_text = "Any name, spelling or code: Idlib, Idleb, إدلب, SY07."
    readonly_fields = ["path"]
    raw_id_fields = ["parent"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        return region_search(queryset, search_term), False

    def get_urls(self):
        view = self.admin_site.admin_view(RegionAutocompleteView.as_view(admin_site=self.admin_site))
        return [path("autocomplete/", view, name="casualties_region_autocomplete"), *super().get_urls()]


class ActorNameInline(admin.TabularInline):
    model = ActorName
    extra = 0
    fields = ["name", "acronym", "valid_from", "valid_to"]


@admin.register(Actor)
class ActorAdmin(ReferenceAdmin):
    list_display = ["name", "acronym", "kind", "country"]
    list_filter = ["kind"]
    search_fields = ["name", "acronym"]
    search_help_text = "Current or former name or acronym (Jabhat al-Nusra finds HTS)."
    inlines = [ActorNameInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.named(term) if term else queryset), False


@admin.register(IncidentType)
class IncidentTypeAdmin(ReferenceAdmin):
    list_display = ["name", "code", "sort_order"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
