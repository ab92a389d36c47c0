"""CSV exports under /api/v1/exports/: the API's filters and scoping, streamed by casualties.exports."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.filters import filter_parameters, refuse_unknown_parameters

from ..exports import (
    INCIDENTS,
    PERIOD_TOTALS,
    RECEIPT_HEADER,
    TALLIES,
    Export,
    PeriodTotalFilterSet,
    export_for_receipt,
    export_incidents,
    export_logs_settle,
    export_response,
    export_tallies,
)
from ..filtersets import CasualtyTallyFilterSet, IncidentFilterSet
from ..models import CasualtyTally
from .permissions import AnonThrottle, UserThrottle

HXL_VALUES = {"": False, "0": False, "1": True}


def export_schema(export: Export, filterset_class: type, summary: str):
    """The OpenAPI description of an export: its filters, hxl, and a CSV body."""
    filters = filter_parameters(filterset_class)
    hxl = OpenApiParameter("hxl", str, enum=["0", "1"], description="1: a row of HXL hashtags under the header.")
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"export_{export.name.replace('-', '_')}",
            summary=summary,
            description=(
                "Streams CSV (UTF-8, RFC 4180, header row) in the order of the rows' ids; every column is described "
                f"in docs/codebook.md. The {RECEIPT_HEADER} header (also a Link, rel=describedby) gives the address "
                "of the export's receipt, which states the number of data rows and the sha256 of the body once the "
                "last byte has left: a file with fewer rows or another digest was cut in transit."
            ),
            parameters=[*filters, hxl],
            responses={
                (200, "text/csv"): OpenApiTypes.STR,
                400: OpenApiResponse(description="A parameter is unknown or its value is wrong; nothing is exported."),
                429: OpenApiResponse(description="Too many requests."),
            },
        )
    )


class ExportView(APIView):
    """Base of the exports: filter the rows the caller may export, then stream them."""

    export: Export
    filterset_class: type
    permission_classes = [AllowAny]
    throttle_classes = [AnonThrottle, UserThrottle]

    def get_queryset(self):
        raise NotImplementedError

    def scoped(self, queryset):
        """The filtered rows narrowed to those the caller may export, where that is done after filtering."""
        return queryset

    def get(self, request, *args, **kwargs):
        params = request.query_params
        refuse_unknown_parameters(params, {*self.filterset_class.base_filters, "hxl"})
        if params.get("hxl", "") not in HXL_VALUES:
            raise ValidationError({"hxl": ["Use hxl=1 to add the HXL hashtag row under the header, or hxl=0."]})
        filterset = self.filterset_class(params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return export_response(
            request=request,
            export=self.export,
            queryset=self.scoped(filterset.qs),
            params=params,
            hxl=HXL_VALUES[params.get("hxl", "")],
        )


@export_schema(INCIDENTS, IncidentFilterSet, "Incidents as CSV, one row per incident")
class IncidentExportView(ExportView):
    """incidents.csv: one row per incident, its estimates in wide form (docs/codebook.md)."""

    export = INCIDENTS
    filterset_class = IncidentFilterSet

    def get_queryset(self):
        return export_incidents(user=self.request.user, statuses_requested="status" in self.request.query_params)


@export_schema(TALLIES, CasualtyTallyFilterSet, "Casualty figures as CSV, one row per figure a report gives")
class TallyExportView(ExportView):
    """tallies.csv: one row per figure a report gives, about an incident or a region over a period."""

    export = TALLIES
    filterset_class = CasualtyTallyFilterSet

    def get_queryset(self):
        return CasualtyTally.objects.all()

    def scoped(self, queryset):
        return export_tallies(user=self.request.user, tallies=queryset)


@export_schema(PERIOD_TOTALS, PeriodTotalFilterSet, "Sources' period totals as CSV")
class PeriodTotalExportView(ExportView):
    """period-totals.csv: one row per source's total for a region over a reporting period."""

    export = PERIOD_TOTALS
    filterset_class = PeriodTotalFilterSet

    def get_queryset(self):
        # Every period total may be exported (a figure with a region is never about an incident).
        return CasualtyTally.objects.filter(region__isnull=False, incident__isnull=True)


class ExportReceiptSerializer(serializers.Serializer):
    export = serializers.CharField(help_text="The export: incidents, tallies or period-totals.")
    status = serializers.ChoiceField(
        choices=["started", "completed", "cut", "failed"],
        help_text="started: still streaming; completed: every row was sent; cut: the client went away first; "
        "failed: the server stopped on an error, or the process serving it was killed.",
    )
    row_count = serializers.IntegerField(
        allow_null=True, help_text="Data rows in the file (header and HXL lines not counted); null until completed."
    )
    rows_sent = serializers.IntegerField(help_text="Data rows sent so far.")
    sha256 = serializers.CharField(
        allow_null=True,
        help_text="Hex sha256 of every byte of the body (header included), as sent; null until completed. Equal to "
        "the sha256 of the file you saved means you have exactly what the server sent.",
    )
    bytes_sent = serializers.IntegerField(help_text="Bytes of the body sent so far; the file's size once completed.")
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ExportReceiptView(APIView):
    """The receipt of one export: whether every row was sent, and how many. Its address comes with the export."""

    permission_classes = [AllowAny]
    throttle_classes = [AnonThrottle, UserThrottle]
    # The export writes its receipt on the primary as it streams; a hot standby may not have the last of it yet.
    reads_primary = True

    @extend_schema(
        operation_id="export_receipt",
        summary="How many rows an export sent, and the sha256 of its body",
        description=f"The address is in the export's {RECEIPT_HEADER} header; it names one export and cannot be "
        "guessed. Compare row_count with the data rows of the file, and sha256 with the file's: a difference means "
        "the download was cut. An export whose server process died reads as failed.",
        responses={200: ExportReceiptSerializer, 404: OpenApiResponse(description="No such export.")},
    )
    def get(self, request, token: str, *args, **kwargs):
        log = export_for_receipt(token)
        if log is None:
            raise NotFound("No export has this receipt.")
        if log.status == log.Status.STARTED and export_logs_settle(log_ids=[log.pk]):
            log.refresh_from_db()
        receipt = {
            "export": log.endpoint,
            "status": log.status,
            "row_count": log.row_count,
            "rows_sent": log.rows_sent,
            "sha256": log.sha256 or None,
            "bytes_sent": log.bytes_sent,
            "started_at": log.started_at,
            "finished_at": log.finished_at,
        }
        response = Response(ExportReceiptSerializer(receipt).data)
        response["Cache-Control"] = "no-store"
        return response
