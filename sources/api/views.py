"""Sources (read-only) and reports (read, and created or updated by services) under /api/v1/."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissionsOrAnonReadOnly

from core.api import WriteResponsesMixin

from ..filtersets import ReportFilterSet, SourceFilterSet
from ..models import Report, Source
from ..services import report_change_refusal
from .serializers import ReportSerializer, SourceSerializer


class ReportPermissions(DjangoModelPermissionsOrAnonReadOnly):
    """Changing a report follows the admin: the rules of sources.services.report_change_refusal (and of the apps
    whose figures cite reports), with their reason as the 403's message."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        refusal = report_change_refusal(user=request.user, report=obj)
        if refusal:
            self.message = f"{refusal} Nothing was changed."
        return refusal is None


class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Source.objects.order_by("name", "id")
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet


@extend_schema_view(
    create=extend_schema(
        description="Create a report. With an external_id, a retry returns the existing report (200); "
        "a different report under the same source and external_id is a 409."
    ),
    update=extend_schema(description="Replace a report; give the updated_at you read (a stale one is a 409)."),
    partial_update=extend_schema(description="Change a report; give the updated_at you read (stale: 409)."),
)
class ReportViewSet(
    WriteResponsesMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    queryset = Report.objects.select_related("source").order_by("-published_on", "-id")
    serializer_class = ReportSerializer
    filterset_class = ReportFilterSet
    permission_classes = [ReportPermissions]
