"""Query parameters of the casualty resources: the one place they are defined.

``IncidentFilterSet`` serves the incident list, the aggregates and the exports alike. Every
parameter that names something (a region, a country, an actor, a source, a report) is resolved
while the query is validated: an unknown name is a 400 that names the parameter.
"""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Upper
from drf_spectacular.utils import extend_schema_field

from core.filters import (
    ChoicesFilter,
    OrderingFilter,
    ResolvingFilter,
    UtcDateTimeFilter,
    positive_id,
    updated_since_filter,
)
from sources.filtersets import report_by_id, sources_named

from .choices import ActorKind, ActorRole, CasualtyGroup, CasualtyStatus, Outcome, RegionLevel, ReviewStatus
from .models import (
    Actor,
    CasualtyTally,
    Estimate,
    Incident,
    IncidentActor,
    IncidentRemoval,
    IncidentType,
    Region,
    ReportingPeriod,
)
from .search import incident_text_search, text_contains


def region_by_code(value: str) -> Region:
    """The region a ``region`` parameter names: its gazetteer code (SY07) or its ISO code (SY-ID)."""
    region = Region.objects.filter(Q(code=value) | Q(code=value.upper())).first()
    if region is None:
        region = Region.objects.annotate(iso_upper=Upper("iso_code")).filter(iso_upper=value.upper()).first()
    if region is None:
        raise forms.ValidationError("No region has the code %(value)r.", code="unknown", params={"value": value})
    return region


def country_by_code(value: str) -> Region:
    """The country a ``country`` parameter names: ISO 3166-1 alpha-3 (SYR), as code or ISO code."""
    upper = value.upper()
    country = (
        Region.objects.annotate(iso_upper=Upper("iso_code"))
        .filter(Q(code=upper) | Q(iso_upper=upper), level=RegionLevel.COUNTRY)
        .first()
    )
    if country is None:
        raise forms.ValidationError("No country has the code %(value)r.", code="unknown", params={"value": value})
    return country


def actors_named(value: str) -> QuerySet:
    """The actors an ``actor`` parameter names: an id, or a current or former name or acronym (case-insensitive)."""
    actor_id = positive_id(value)
    if actor_id is not None:
        found = Actor.objects.filter(pk=actor_id)
    else:
        found = Actor.objects.filter(
            Q(name__iexact=value) | Q(acronym__iexact=value) | Q(names__name__iexact=value)
            | Q(names__acronym__iexact=value)
        ).distinct()  # fmt: skip
    if not found.exists():
        raise forms.ValidationError(
            "No actor has the id, name or former name %(value)r.", code="unknown", params={"value": value}
        )
    return Actor.objects.filter(pk__in=found.values("pk"))


def date_overlap_filters() -> tuple[django_filters.DateFilter, django_filters.DateFilter]:
    """``date_from``/``date_to``: rows whose [date_start, date_end] overlaps the requested range."""
    return (
        django_filters.DateFilter(
            field_name="date_end", lookup_expr="gte", help_text="Only rows whose dates reach this day (YYYY-MM-DD)."
        ),
        django_filters.DateFilter(
            field_name="date_start",
            lookup_expr="lte",
            help_text="Only rows whose dates begin by this day (YYYY-MM-DD).",
        ),
    )


class CodesField(django_filters.fields.ModelMultipleChoiceField):
    """Several codes; an empty value is the same as none."""

    def clean(self, value):
        return super().clean([code for code in value or [] if code != ""])


class CodesFilter(django_filters.ModelMultipleChoiceFilter):
    """Rows named by codes; the schema shows each value as a string, with the filter's help text."""

    field_class = CodesField

    def __init__(self, **kwargs):
        noun = kwargs["queryset"].model._meta.verbose_name
        kwargs.setdefault("error_messages", {"invalid_choice": f"No {noun} has the code %(value)r."})
        super().__init__(**kwargs)
        extend_schema_field({"type": "string", "description": kwargs.get("help_text", "")})(self)


# The status filter's word for incidents merged into another: not a review status, since they left review.
MERGED = "merged"


class IncidentFilterSet(django_filters.FilterSet):
    """Filters over incidents; combine freely (all conditions must hold)."""

    date_from, date_to = date_overlap_filters()
    region = ResolvingFilter(
        resolve=region_by_code,
        method="filter_region",
        help_text="A gazetteer code (e.g. SY07) or ISO 3166-2 code; the region and everything inside it.",
    )
    country = ResolvingFilter(
        resolve=country_by_code,
        method="filter_region",
        help_text="A country's ISO 3166-1 alpha-3 code (e.g. SYR); everything inside it.",
    )
    actor = ResolvingFilter(
        resolve=actors_named,
        method="filter_actor",
        help_text="An actor's id, or any current or former name or acronym (e.g. Jabhat al-Nusra, HTS).",
    )
    actor_role = django_filters.ChoiceFilter(
        choices=ActorRole.choices,
        method="filter_actor_role",
        help_text="With actor: the actor had this role; alone: some actor had it.",
    )
    incident_type = CodesFilter(
        field_name="incident_type__code",
        queryset=IncidentType.objects.all(),
        to_field_name="code",
        help_text="Incident type code (e.g. armed-clash); repeat for several.",
    )
    status = ChoicesFilter(
        choices=[*ReviewStatus.choices, (MERGED, "Merged into another incident")],
        method="filter_status",
        help_text="Review status; repeat for several. A merged duplicate has left every status: ask for it with "
        "'merged'. Only verified incidents are visible to anonymous clients.",
    )
    source = ResolvingFilter(
        resolve=sources_named,
        method="filter_source",
        help_text="A source's id, acronym or name: incidents that source reported a figure for.",
    )
    report = ResolvingFilter(
        resolve=report_by_id, method="filter_report", help_text="A report's id: incidents it gives a figure for."
    )
    outcome = django_filters.ChoiceFilter(
        choices=Outcome.choices,
        method="filter_casualties",
        help_text="Incidents with a figure for this outcome (with casualty_status: for both at once).",
    )
    casualty_status = django_filters.ChoiceFilter(
        choices=CasualtyStatus.choices,
        method="filter_casualties",
        help_text="Incidents with a figure for people of this status (civilian, combatant, unknown).",
    )
    q = django_filters.CharFilter(
        method="search", help_text="Text in the title, description or place name (case-insensitive)."
    )
    updated_since = updated_since_filter()
    ordering = OrderingFilter(
        orderings={
            "-date_start": ("-date_start", "-id"),
            "date_start": ("date_start", "id"),
            "-updated_at": ("-updated_at", "-id"),
            "updated_at": ("updated_at", "id"),
        }
    )

    class Meta:
        model = Incident
        fields = []

    def filter_region(self, queryset: QuerySet, name: str, value: Region) -> QuerySet:
        return queryset.filter(region__path__startswith=value.path)

    def filter_actor(self, queryset: QuerySet, name: str, value: QuerySet) -> QuerySet:
        roles = IncidentActor.objects.filter(incident=OuterRef("pk"), actor__in=value)
        role = self.form.cleaned_data.get("actor_role")
        if role:
            roles = roles.filter(role=role)
        return queryset.filter(Exists(roles))

    def filter_actor_role(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if self.form.cleaned_data.get("actor"):
            return queryset  # applied together with the actor
        return queryset.filter(Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), role=value)))

    def filter_status(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        statuses = [status for status in value if status != MERGED]
        wanted = Q(status__in=statuses, duplicate_of__isnull=True)
        if MERGED in value:
            wanted |= Q(duplicate_of__isnull=False)
        return queryset.filter(wanted)

    def filter_source(self, queryset: QuerySet, name: str, value: QuerySet) -> QuerySet:
        return queryset.filter(Exists(CasualtyTally.objects.filter(incident=OuterRef("pk"), source__in=value)))

    def filter_report(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(Exists(CasualtyTally.objects.filter(incident=OuterRef("pk"), report=value)))

    def filter_casualties(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        data = self.form.cleaned_data
        if name == "casualty_status" and data.get("outcome"):
            return queryset  # applied together with the outcome
        figures = Estimate.objects.filter(incident=OuterRef("pk"))
        if data.get("outcome"):
            figures = figures.filter(outcome=data["outcome"])
        if data.get("casualty_status"):
            figures = figures.filter(status=data["casualty_status"])
        return queryset.filter(Exists(figures))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(incident_text_search(value))


class RegionFilterSet(django_filters.FilterSet):
    level = django_filters.TypedChoiceFilter(
        choices=RegionLevel.choices,
        coerce=int,
        help_text="0 country, 1 governorate, 2 district, 3 sub-district, 4 community.",
    )
    parent = ResolvingFilter(
        resolve=region_by_code, method="filter_parent", help_text="The parent's code: its direct children."
    )
    within = ResolvingFilter(
        resolve=region_by_code,
        method="filter_within",
        help_text="A region's code: the region and everything inside it.",
    )
    q = django_filters.CharFilter(
        method="search",
        help_text="Text in any name: code, ISO code, English name, Arabic name or an alternate spelling.",
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Region
        fields = []

    def filter_parent(self, queryset: QuerySet, name: str, value: Region) -> QuerySet:
        return queryset.filter(parent=value)

    def filter_within(self, queryset: QuerySet, name: str, value: Region) -> QuerySet:
        return queryset.subtree(value)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(text_contains(value, "search_names", stored_folded=True))


class ActorFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", help_text="Text in the current or any former name, or an acronym (e.g. Nusra)."
    )
    kind = ChoicesFilter(choices=ActorKind.choices, help_text="Kind of actor.")
    updated_since = updated_since_filter()

    class Meta:
        model = Actor
        fields = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(pk__in=Actor.objects.named(value).values("pk"))


class ReportingPeriodFilterSet(django_filters.FilterSet):
    date_from, date_to = date_overlap_filters()
    updated_since = updated_since_filter()

    class Meta:
        model = ReportingPeriod
        fields = []


class CasualtyTallyFilterSet(django_filters.FilterSet):
    incident = django_filters.UUIDFilter(
        field_name="incident__public_id", help_text="An incident's public id: its figures."
    )
    region = ResolvingFilter(
        resolve=region_by_code,
        method="filter_region",
        help_text="A region's code: period totals for it and everything inside it.",
    )
    source = ResolvingFilter(resolve=sources_named, method="filter_source", help_text="A source's id, acronym or name.")
    report = ResolvingFilter(resolve=report_by_id, method="filter_report", help_text="A report's id.")
    is_period_total = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_period_total",
        help_text="true: period totals; false: figures about incidents.",
    )
    outcome = ChoicesFilter(choices=Outcome.choices, help_text="Killed, injured or missing.")
    status = ChoicesFilter(choices=CasualtyStatus.choices, help_text="Status of the people counted.")
    group = ChoicesFilter(choices=CasualtyGroup.choices, help_text="All, or an of-which subgroup.")
    updated_since = updated_since_filter()

    class Meta:
        model = CasualtyTally
        fields = []

    def filter_region(self, queryset: QuerySet, name: str, value: Region) -> QuerySet:
        return queryset.filter(region__path__startswith=value.path)

    def filter_source(self, queryset: QuerySet, name: str, value: QuerySet) -> QuerySet:
        return queryset.filter(source__in=value)

    def filter_report(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(report=value)

    def filter_period_total(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(region__isnull=value != "true")


class IncidentRemovalFilterSet(django_filters.FilterSet):
    since = UtcDateTimeFilter(
        field_name="removed_at",
        lookup_expr="gte",
        help_text="Only removals at or after this ISO 8601 date-time: the time of your last sync.",
    )

    class Meta:
        model = IncidentRemoval
        fields = []
