"""Filters of the incident change list: by review state, country, governorate and source."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import CharField, Exists, F, Func, OuterRef, Value

from sources.models import Source

from ..choices import ReviewStatus
from ..models import CasualtyTally, Incident, Region


class RegionSubtreeFilter(admin.SimpleListFilter):
    """Incidents in a region or anywhere below it (one indexed prefix match on the region path)."""

    level = 0

    def regions(self, request):
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [(region.code, region.name) for region in self.regions(request)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        region = Region.objects.filter(code=self.value(), level=self.level).first()
        return queryset.filter(region__path__startswith=region.path) if region else queryset.none()


class CountryFilter(RegionSubtreeFilter):
    title = "country"
    parameter_name = "country"
    level = 0

    def regions(self, request):
        """Countries with at least one incident, in one query: the first path element (the country's code)
        of every region that has an incident, each region checked with one probe of the incident region
        index. A path match per country scans the incidents once per country instead."""
        with_incidents = (
            Region.objects.filter(Exists(Incident.objects.filter(region=OuterRef("pk"))))
            .annotate(
                country_code=Func(F("path"), Value("/"), Value(1), function="split_part", output_field=CharField())
            )
            .values("country_code")
        )
        return Region.objects.filter(level=0, code__in=with_incidents).order_by("name")


class GovernorateFilter(RegionSubtreeFilter):
    """Offered once a country is chosen: its governorates or provinces."""

    title = "governorate / province"
    parameter_name = "governorate"
    level = 1

    def regions(self, request):
        country = request.GET.get(CountryFilter.parameter_name)
        if not country:
            return Region.objects.none()
        return Region.objects.filter(level=1, parent__code=country).order_by("name")


class SourceFilter(admin.SimpleListFilter):
    """Incidents with at least one figure from the source."""

    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Source.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not self.value() or not self.value().isdigit():
            return queryset
        return queryset.filter(Exists(CasualtyTally.objects.filter(incident=OuterRef("pk"), source_id=self.value())))


class ReviewStateFilter(admin.SimpleListFilter):
    """The review queues: a status lists the incidents in it; a merged duplicate is in none, only under "merged"."""

    title = "status"
    parameter_name = "status__exact"  # the name of the plain field filter it replaces, so saved links still work
    MERGED = "merged"

    def lookups(self, request, model_admin):
        return [*ReviewStatus.choices, (self.MERGED, "Merged into another")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == self.MERGED:
            return queryset.filter(duplicate_of__isnull=False)
        return queryset.filter(status=value, duplicate_of__isnull=True)
