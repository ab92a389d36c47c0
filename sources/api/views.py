"""Sources (read-only) and reports (read, and created or updated by services) under /api/v1/."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import DjangoModelPermissionsOrAnonReadOnly
from rest_framework.response import Response

from ..filtersets import ReportFilterSet, SourceFilterSet
from ..models import Report, Source
from .serializers import ReportSerializer, SourceSerializer


class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Source.objects.order_by("name", "id")
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet


class WriteResponsesMixin:
    """Writes answer with the read representation (``read_serializer_class``, else the serializer's).

    POST answers 201 for a new row and 200 when it recognised a retry of an earlier create.
    """

    read_serializer_class = None

    def written(self, instance, code: int) -> Response:
        instance = self.get_queryset().model._default_manager.get(pk=instance.pk)
        reader = self.read_serializer_class or self.get_serializer_class()
        return Response(reader(instance, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.written(serializer.instance, status.HTTP_200_OK if serializer.replayed else status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self.written(serializer.instance, status.HTTP_200_OK)


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
    permission_classes = [DjangoModelPermissionsOrAnonReadOnly]
