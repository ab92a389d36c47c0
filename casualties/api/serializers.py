"""The casualty resources in the API: explicit fields, region codes and public ids rather than row ids."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ServiceWriteMixin
from sources.api.serializers import SourceBriefSerializer
from sources.models import Report

from ..choices import ActorRole, ReviewStatus
from ..models import (
    Actor,
    ActorName,
    CasualtyTally,
    Estimate,
    Incident,
    IncidentActor,
    IncidentRemoval,
    IncidentType,
    Region,
    ReportingPeriod,
)
from ..roles import can_see_staff_notes, visible_incidents
from ..services import incident_create, incident_update, tally_create, tally_update


class LookupRelatedField(serializers.SlugRelatedField):
    """A row named by a code or public id; a malformed value is a field error, never a server error."""

    def to_internal_value(self, data):
        if not isinstance(data, str | int) or "\x00" in str(data):
            self.fail("invalid")
        try:
            return super().to_internal_value(data)
        except DjangoValidationError:
            self.fail("invalid")


class RegionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "name_local", "level"]


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="The parent's code; null for a country."
    )

    class Meta:
        model = Region
        fields = [
            "code", "iso_code", "name", "name_local", "alternate_names", "level", "parent", "latitude", "longitude",
            "updated_at",
        ]  # fmt: skip


class RegionDetailSerializer(RegionSerializer):
    ancestors = serializers.SerializerMethodField(help_text="From the country down to the parent.")

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "ancestors"]

    @staticmethod
    def ancestors_of(region: Region) -> list[dict]:
        ancestors = Region.objects.filter(code__in=region.ancestor_codes).order_by("level")
        return RegionBriefSerializer(ancestors, many=True).data

    @extend_schema_field(RegionBriefSerializer(many=True))
    def get_ancestors(self, region: Region) -> list[dict]:
        return self.ancestors_of(region)


class ActorNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActorName
        fields = ["name", "acronym", "valid_from", "valid_to"]


class ActorSerializer(serializers.ModelSerializer):
    former_names = ActorNameSerializer(source="names", many=True, read_only=True)

    class Meta:
        model = Actor
        fields = ["id", "name", "acronym", "kind", "country", "description", "former_names", "updated_at"]


class ReportingPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportingPeriod
        fields = ["id", "date_start", "date_end", "label", "updated_at"]


class IncidentActorSerializer(serializers.ModelSerializer):
    actor = serializers.PrimaryKeyRelatedField(queryset=Actor.objects.all(), help_text="The actor's id.")
    actor_name = serializers.CharField(source="actor.name", read_only=True)
    role = serializers.ChoiceField(choices=ActorRole.choices)

    class Meta:
        model = IncidentActor
        fields = ["actor", "actor_name", "role"]

    def validate(self, attrs: dict) -> dict:
        # A PATCH is partial for the incident, not for each actor it lists: every item names both.
        missing = [name for name in ("actor", "role") if name not in attrs]
        if missing:
            required = {name: [self.fields[name].error_messages["required"]] for name in missing}
            raise serializers.ValidationError(required)
        return attrs


class EstimateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Estimate
        fields = ["outcome", "status", "group", "low", "best", "high", "source_count"]


class ReportBriefSerializer(serializers.ModelSerializer):
    source = SourceBriefSerializer(read_only=True)

    class Meta:
        model = Report
        fields = ["id", "title", "url", "published_on", "source"]


class IncidentTallySerializer(serializers.ModelSerializer):
    report = ReportBriefSerializer(read_only=True)

    class Meta:
        model = CasualtyTally
        fields = [
            "id", "outcome", "status", "group", "low", "best", "high", "qualifier", "reported_phrase", "is_preferred",
            "report",
        ]  # fmt: skip


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as lists show it."""

    region = RegionBriefSerializer(read_only=True)
    incident_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    duplicate_of = serializers.SlugRelatedField(
        slug_field="public_id", read_only=True, allow_null=True, help_text="The incident this one was merged into."
    )
    actors = IncidentActorSerializer(source="actor_roles", many=True, read_only=True)
    estimates = EstimateSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "public_id", "title", "description", "date_start", "date_end", "date_precision", "region", "place_name",
            "latitude", "longitude", "location_precision", "incident_type", "actors", "status", "duplicate_of",
            "estimates", "external_id", "version", "created_at", "updated_at",
        ]  # fmt: skip


class IncidentDetailSerializer(IncidentSerializer):
    """One incident with its region's ancestors and every figure reported about it, with its source."""

    region_ancestors = serializers.SerializerMethodField(help_text="From the country down to the region's parent.")
    tallies = IncidentTallySerializer(many=True, read_only=True)
    merged_from = serializers.SlugRelatedField(
        source="duplicates",
        many=True,
        slug_field="public_id",
        read_only=True,
        help_text="The incidents merged into this one (their figures now count here).",
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "region_ancestors", "tallies", "merged_from"]

    @extend_schema_field(RegionBriefSerializer(many=True))
    def get_region_ancestors(self, incident: Incident) -> list[dict]:
        return RegionDetailSerializer.ancestors_of(incident.region)


class IncidentTransitionSerializer(serializers.Serializer):
    """A step of the review workflow: the status to move to, and the version the caller read."""

    status = serializers.ChoiceField(
        choices=ReviewStatus.choices,
        help_text="submitted (by the draft's author or a reviewer); verified, rejected or draft (returned for "
        "changes) by a reviewer. An incident is verified by someone other than its author.",
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a stale one is a 409."
    )


class IncidentWriteSerializer(ServiceWriteMixin, serializers.ModelSerializer):
    """What a service sends to create (as a draft) or change an incident.

    Create is idempotent by ``external_id`` (per caller); an update carries ``version``.
    """

    region = LookupRelatedField(
        slug_field="code", queryset=Region.objects.all(), help_text="The most precise gazetteer unit known."
    )
    incident_type = LookupRelatedField(slug_field="code", queryset=IncidentType.objects.all())
    actors = IncidentActorSerializer(many=True, required=False)
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Ignored on create; on update, the version you last read (a stale one is a 409).",
    )

    class Meta:
        model = Incident
        fields = [
            "title", "description", "date_start", "date_end", "date_precision", "region", "place_name", "latitude",
            "longitude", "location_precision", "incident_type", "actors", "external_id", "version",
        ]  # fmt: skip
        validators = []  # the services check the model's rules and constraints

    def validate_actors(self, actors: list[dict]) -> list[dict]:
        pairs = [(item["actor"].pk, item["role"]) for item in actors]
        if len(set(pairs)) != len(pairs):
            raise serializers.ValidationError("An actor is listed twice with the same role.")
        return actors

    @staticmethod
    def _actor_pairs(actors: list[dict] | None) -> list[tuple[int, str]] | None:
        return None if actors is None else [(item["actor"].pk, item["role"]) for item in actors]

    def create_with(self, user, data: dict) -> tuple[Incident, bool]:
        actors = self._actor_pairs(data.pop("actors", []))
        data.pop("version", None)
        return incident_create(user=user, values=data, actors=actors)

    def update_with(self, user, incident: Incident, data: dict) -> Incident:
        actors = self._actor_pairs(data.pop("actors", None))
        version = data.pop("version", None)
        return incident_update(user=user, incident=incident, expected_version=version, values=data, actors=actors)


class CasualtyTallySerializer(ServiceWriteMixin, serializers.ModelSerializer):
    """One figure from one report, about an incident or about a region over a reporting period.

    A create that repeats an existing figure's key (report, target, outcome, status, group) is a
    retry: the same numbers return it (200), others are a 409.
    """

    incident = LookupRelatedField(
        slug_field="public_id",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        help_text="The incident's public id; or give region and reporting_period for a period total.",
    )
    region = LookupRelatedField(slug_field="code", queryset=Region.objects.all(), required=False, allow_null=True)
    low = serializers.IntegerField(min_value=0, required=False, help_text="Defaults to best.")
    high = serializers.IntegerField(min_value=0, required=False, help_text="Defaults to best.")
    updated_at = serializers.DateTimeField(
        required=False, help_text="Read-only on create; on update, the value you last read (a stale one is a 409)."
    )

    class Meta:
        model = CasualtyTally
        fields = [
            "id", "report", "incident", "region", "reporting_period", "outcome", "status", "group", "low", "best",
            "high", "qualifier", "reported_phrase", "is_preferred", "notes", "source", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["source", "created_at"]
        validators = []  # the services check the model's rules and constraints

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["incident"].queryset = visible_incidents(request.user, Incident.objects.all())
            if not can_see_staff_notes(request.user):
                del fields["notes"]
        return fields

    def create_with(self, user, data: dict) -> tuple[CasualtyTally, bool]:
        data.pop("updated_at", None)
        return tally_create(user=user, **data)

    def update_with(self, user, tally: CasualtyTally, data: dict) -> CasualtyTally:
        read_at = data.pop("updated_at", None)
        return tally_update(user=user, tally=tally, read_at=read_at, changes=data)


class IncidentRemovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentRemoval
        fields = ["public_id", "removed_at", "reason", "merged_into"]
