"""The casualty resources under /api/v1/: wiring of querysets, filtersets, serializers and role rules.

Every queryset is scoped to what the caller may see (casualties.roles), so another user's drafts
never appear in a list or a detail.
"""

from django.core.exceptions import PermissionDenied as ModelPermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated

from core.api import Conflict, WriteResponsesMixin

from ..filtersets import (
    ActorFilterSet,
    CasualtyTallyFilterSet,
    IncidentFilterSet,
    IncidentRemovalFilterSet,
    RegionFilterSet,
    ReportingPeriodFilterSet,
)
from ..models import (
    Actor,
    CasualtyTally,
    Incident,
    IncidentActor,
    IncidentRemoval,
    Region,
    ReportingPeriod,
)
from ..roles import TRANSITIONS, visible_filter, visible_incidents
from ..services import StaleVersionError, incident_transition
from .permissions import IncidentPermissions, TallyPermissions
from .serializers import (
    ActorSerializer,
    CasualtyTallySerializer,
    IncidentDetailSerializer,
    IncidentRemovalSerializer,
    IncidentSerializer,
    IncidentTransitionSerializer,
    IncidentWriteSerializer,
    RegionDetailSerializer,
    RegionSerializer,
    ReportingPeriodSerializer,
)

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.select_related("parent").order_by("path")
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_.-]+"

    def get_serializer_class(self):
        return RegionDetailSerializer if self.action == "retrieve" else RegionSerializer


class ActorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Actor.objects.prefetch_related("names").order_by("name", "id")
    serializer_class = ActorSerializer
    filterset_class = ActorFilterSet


class ReportingPeriodViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ReportingPeriod.objects.order_by("-date_start", "-date_end", "-id")
    serializer_class = ReportingPeriodSerializer
    filterset_class = ReportingPeriodFilterSet


@extend_schema_view(
    create=extend_schema(
        description="Create a draft incident. With an external_id, a retry returns the incident you created "
        "with it (200); different content under the same external_id is a 409."
    ),
    update=extend_schema(description="Replace an incident; give the version you read (a stale one is a 409)."),
    partial_update=extend_schema(description="Change an incident; give the version you read (stale: 409)."),
)
class IncidentViewSet(
    WriteResponsesMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    filterset_class = IncidentFilterSet
    permission_classes = [IncidentPermissions]
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    read_serializer_class = IncidentDetailSerializer
    read_only_hints = {
        "status": "Read-only here: the review status changes through POST /api/v1/incidents/{public_id}/transition/.",
        "duplicate_of": "Read-only: a reviewer merges duplicates in the admin.",
    }

    def get_queryset(self):
        incidents = Incident.objects.select_related("region", "incident_type", "duplicate_of").prefetch_related(
            Prefetch("actor_roles", IncidentActor.objects.select_related("actor")), "estimates"
        )
        if self.action == "retrieve":
            incidents = incidents.prefetch_related(
                Prefetch("tallies", CasualtyTally.objects.select_related("report__source"))
            )
        return visible_incidents(self.request.user, incidents)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return IncidentWriteSerializer
        if self.action == "transition":
            return IncidentTransitionSerializer
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    @extend_schema(
        summary="Move an incident through the review workflow",
        description="draft → submitted → verified, or rejected, or returned to draft: the admin's review buttons. "
        "Who may take which step follows the roles (the author submits a draft, a reviewer who is not the "
        "author verifies). Answers with the incident. A step the role does not allow is a 403 saying why; a step "
        "the incident's current status does not allow, or a stale version, is a 409.",
        request=IncidentTransitionSerializer,
        responses={
            200: IncidentDetailSerializer,
            403: OpenApiResponse(description="The caller's role may not take this step."),
            409: OpenApiResponse(description="Not a step from the current status, or a stale version."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def transition(self, request, *args, **kwargs):
        incident = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to_status = serializer.validated_data["status"]
        try:
            with transaction.atomic():
                incident_transition(
                    incident=incident,
                    to_status=to_status,
                    user=request.user,
                    expected_version=serializer.validated_data.get("version"),
                )
        except StaleVersionError as exc:
            raise Conflict(str(exc)) from exc
        except ModelPermissionDenied as exc:
            if (incident.status, to_status) not in TRANSITIONS:  # the status as it was when the step was refused
                raise Conflict(str(exc)) from exc
            raise PermissionDenied(str(exc)) from exc
        return self.written(incident, status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(
        description="Public ids of incidents that left the public set (rejected, returned to review, merged or "
        "deleted) and when, oldest first: what a synced copy of the public set should drop."
    )
)
class IncidentRemovalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = IncidentRemoval.objects.order_by("removed_at", "id")
    serializer_class = IncidentRemovalSerializer
    filterset_class = IncidentRemovalFilterSet
    permission_classes = []  # public ids of once-public incidents


@extend_schema_view(
    create=extend_schema(
        description="Add a figure. A retry of the same figure (same report, target, outcome, status and group) "
        "returns it (200); the same key with other numbers is a 409."
    ),
    update=extend_schema(description="Replace a figure; give the updated_at you read (a stale one is a 409)."),
    partial_update=extend_schema(description="Change a figure; give the updated_at you read (stale: 409)."),
)
class CasualtyTallyViewSet(
    WriteResponsesMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    serializer_class = CasualtyTallySerializer
    filterset_class = CasualtyTallyFilterSet
    permission_classes = [TallyPermissions]

    def get_queryset(self):
        tallies = CasualtyTally.objects.select_related("incident", "region", "report").order_by("id")
        incidents = visible_filter(self.request.user, prefix="incident__")
        return tallies if incidents is None else tallies.filter(Q(incident__isnull=True) | incidents)
