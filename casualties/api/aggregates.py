"""GET /api/v1/aggregates/: casualties by date bucket and region, on the incident or the reported-totals basis.

The counting rules are those of casualties.selectors (and docs/aggregation.md); this module only turns
the query string into their arguments and their rows into JSON or CSV.
"""

import hashlib

import orjson
from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils.cache import parse_etags, patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from core.filters import filter_parameters, refuse_unknown_parameters

from ..choices import CasualtyGroup, CasualtyStatus, Outcome
from ..csv_stream import csv_stream
from ..exports import export_filename
from ..filtersets import IncidentFilterSet
from ..selectors import (
    AGGREGATE_ROW_CAP,
    AGGREGATE_TIME_LIMIT,
    ALL_STATUSES,
    ROW_FIELDS,
    AggregateOptions,
    AggregateTimedOut,
    AggregateTooLarge,
    Basis,
    Interval,
    aggregate_incidents,
    incident_basis_aggregate,
    period_totals,
    reported_totals_aggregate,
)

# Incident filters that also make sense for period totals; any other one is refused with basis=reported_totals.
TOTALS_FILTERS = {"region", "country", "date_from", "date_to", "source"}
# Incident-list parameters that mean nothing for an aggregate (the rows have their own order).
IGNORED_FILTERS = {"ordering"}
DRF_ENCODER = JSONEncoder()


class CSVRenderer(BaseRenderer):
    """``format=csv`` (or Accept: text/csv): the rows as CSV. The view streams its own responses; this renders
    a whole ``{"results": [...]}`` payload for any other use."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return "".join(csv_stream(ROW_FIELDS, data["results"])).encode()


class TooManyRows(APIException):
    status_code = 400
    default_code = "too_many_rows"


class TooSlow(APIException):
    status_code = 503
    default_code = "aggregate_timeout"


def aggregate_hxl_tags(outcome: str) -> list[str]:
    """HXL hashtags of the aggregate CSV's columns, in ROW_FIELDS order; the figures are tagged by outcome."""
    affected = f"#affected+{outcome}"
    tags = {
        "period_start": "#date+start",
        "period_end": "#date+end",
        "region_code": "#adm+code",
        "region_name": "#adm+name",
        "region_level": "#adm+level",
        "incidents": "#event+num",
        "incidents_with_figures": "#event+num+figures",
        "low": f"{affected}+low",
        "best": f"{affected}+best",
        "high": f"{affected}+high",
    }
    return [tags[field] for field in ROW_FIELDS]


class AggregateParamsSerializer(serializers.Serializer):
    """The aggregate's own parameters; the incident filters come from IncidentFilterSet."""

    interval = serializers.ChoiceField(
        choices=Interval.choices,
        required=False,
        help_text="Date bucket of each row: day, week (ISO, from Monday), month, quarter or year. "
        "Absent: no time grouping.",
    )
    region_level = serializers.IntegerField(
        min_value=0,
        max_value=4,
        required=False,
        help_text="Region level of each row: 0 country, 1 governorate, 2 district, 3 sub-district, 4 community. "
        "Places known only more coarsely get a row at their own, smaller level. Absent: no region grouping.",
    )
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, default=Outcome.KILLED, help_text="Which figure to sum: killed, injured or missing."
    )
    casualty_status = serializers.ChoiceField(
        choices=[*CasualtyStatus.choices, (ALL_STATUSES, "All statuses summed")],
        default=CasualtyStatus.CIVILIAN,
        help_text="People counted: civilian (default), combatant, unknown, or all to sum the three.",
    )
    group = serializers.ChoiceField(
        choices=CasualtyGroup.choices,
        default=CasualtyGroup.ALL,
        help_text="all (default), or an of-which subgroup (children, women, men, elderly), summed on its own.",
    )
    basis = serializers.ChoiceField(
        choices=Basis.choices,
        default=Basis.INCIDENTS,
        help_text="incidents (default): the estimates of counted incidents; reported_totals: the period totals of "
        "one source (needs source).",
    )
    hxl = serializers.ChoiceField(
        choices=[("0", "No"), ("1", "Yes")],
        default="0",
        help_text="With format=csv, 1 adds a row of HXL hashtags under the header.",
    )
    fill = serializers.BooleanField(
        default=False,
        help_text="true: a row for every bucket from date_from to date_to and every region group, empty ones "
        "included (needs interval, date_from and date_to).",
    )

    def validate(self, attrs: dict) -> dict:
        filters, given = self.context["filters"], self.context["given"]
        errors = {}
        if attrs["fill"]:
            if not attrs.get("interval"):
                errors["fill"] = "fill needs an interval."
            elif not (filters.get("date_from") and filters.get("date_to")):
                errors["fill"] = "fill needs date_from and date_to: the range to fill."
            elif filters["date_from"] > filters["date_to"]:
                errors["date_to"] = "date_to must not be before date_from."
        if attrs["basis"] == Basis.REPORTED_TOTALS:
            errors.update(self._totals_errors(attrs, filters, given))
        if errors:
            raise ValidationError(errors)
        return attrs

    def _totals_errors(self, attrs: dict, filters: dict, given: set[str]) -> dict:
        errors = {
            name: "Does not apply with basis=reported_totals: period totals are not about incidents."
            for name in sorted(given - TOTALS_FILTERS - IGNORED_FILTERS - set(self.fields))
        }
        sources = filters.get("source")
        if sources is None:
            errors["source"] = "basis=reported_totals needs source: the period totals of one source are summed."
        else:
            found = list(sources[:2])
            if len(found) > 1:
                errors["source"] = "This names more than one source; give the source's id."
            else:
                attrs["source"] = found[0]
        return errors


class AggregateTotalsSerializer(serializers.Serializer):
    incidents = serializers.IntegerField(
        allow_null=True, help_text="Incidents counted, with or without a figure (null on reported_totals)."
    )
    incidents_with_figures = serializers.IntegerField(
        allow_null=True, help_text="Of those, incidents with a figure for the outcome, status and group asked."
    )
    low = serializers.IntegerField(allow_null=True, help_text="Sum of the low figures; null when none is known.")
    best = serializers.IntegerField(allow_null=True, help_text="Sum of the best figures; null when none is known.")
    high = serializers.IntegerField(allow_null=True, help_text="Sum of the high figures; null when none is known.")


class AggregateRowSerializer(AggregateTotalsSerializer):
    period_start = serializers.DateField(allow_null=True, help_text="First day of the bucket (null: no interval).")
    period_end = serializers.DateField(allow_null=True, help_text="Last day of the bucket, inclusive.")
    region_code = serializers.CharField(allow_null=True, help_text="Gazetteer code (null: no region_level).")
    region_name = serializers.CharField(allow_null=True)
    region_level = serializers.IntegerField(
        allow_null=True, help_text="Smaller than the region_level asked for when the place is known only coarsely."
    )


class AggregateResponseSerializer(serializers.Serializer):
    results = AggregateRowSerializer(many=True)
    totals = AggregateTotalsSerializer()


def _filter_parameters() -> list[OpenApiParameter]:
    return filter_parameters(IncidentFilterSet, exclude={*AggregateParamsSerializer._declared_fields, *IGNORED_FILTERS})


class AggregateView(APIView):
    """Casualties by date bucket and region; the counting rules are in docs/aggregation.md."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    def get_queryset(self):
        statuses = [value for value in self.request.query_params.getlist("status") if value]
        return aggregate_incidents(user=self.request.user, statuses_requested=bool(statuses))

    @extend_schema(
        operation_id="aggregates",
        summary="Casualties by date bucket and region",
        description=(
            "Sums of low, best and high figures per date bucket and region, with totals. On the incident basis "
            "every counted incident (verified, not a duplicate) is in exactly one row, so every grouping sums to "
            "the totals. On the reported_totals basis one source's period totals are split across buckets by "
            f"days. A request that would give more than {AGGREGATE_ROW_CAP} rows is a 400 that says how to "
            "narrow it. Responses carry an ETag; a matching If-None-Match gets a 304. format=csv gives the rows "
            "as CSV. Outcome and casualty_status choose the figure summed: they do not filter incidents."
        ),
        parameters=[
            AggregateParamsSerializer,
            *_filter_parameters(),
            OpenApiParameter("format", str, enum=["json", "csv"], description="json (default) or csv."),
        ],
        responses={
            (200, "application/json"): AggregateResponseSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag still matches."),
            400: OpenApiResponse(description="A parameter is wrong or the result would be too large."),
            503: OpenApiResponse(
                description=f"The aggregate ran longer than {AGGREGATE_TIME_LIMIT} and was stopped; narrow it."
            ),
        },
    )
    def get(self, request, *args, **kwargs):
        params, filters = self._validated(request)
        options = AggregateOptions(
            interval=params.get("interval"),
            region_level=params.get("region_level"),
            outcome=params["outcome"],
            casualty_status=params["casualty_status"],
            group=params["group"],
            fill=(filters["date_from"], filters["date_to"]) if params["fill"] else None,
        )
        within = [filters[name] for name in ("region", "country") if filters.get(name)]
        dates = {"date_from": filters.get("date_from"), "date_to": filters.get("date_to")}
        try:
            if params["basis"] == Basis.REPORTED_TOTALS:
                totals = period_totals(source=params["source"], within=within, **dates)
                result = reported_totals_aggregate(totals=totals, options=options)
            else:
                result = incident_basis_aggregate(
                    incidents=self._filterset.qs,
                    filters_given=self._given - IGNORED_FILTERS,
                    statuses=self._filterset.form.cleaned_data.get("status") or (),
                    within=within,
                    options=options,
                    **dates,
                )
        except AggregateTooLarge as refused:
            raise TooManyRows(str(refused)) from refused
        except AggregateTimedOut as stopped:
            raise TooSlow(str(stopped)) from stopped
        return self._respond(request, {"results": result.results, "totals": result.totals})

    def _validated(self, request) -> tuple[dict, dict]:
        own = set(AggregateParamsSerializer._declared_fields)
        known = own | set(IncidentFilterSet.base_filters) | {"format"}
        refuse_unknown_parameters(request.query_params, known)
        filter_data = request.query_params.copy()
        for name in [*own, "format"]:
            filter_data.pop(name, None)
        self._filterset = IncidentFilterSet(data=filter_data, queryset=self.get_queryset(), request=request)
        if not self._filterset.is_valid():
            raise ValidationError(self._filterset.errors)
        filters = self._filterset.form.cleaned_data
        given = {name for name, values in filter_data.lists() if any(v != "" for v in values)}
        params = AggregateParamsSerializer(data=request.query_params, context={"filters": filters, "given": given})
        params.is_valid(raise_exception=True)
        self._given = given
        return params.validated_data, filters

    def _respond(self, request, payload: dict):
        as_csv = request.accepted_renderer.format == "csv"
        # Rendered once: the JSON body is both the answer and what the ETag is computed from. orjson gives the bytes
        # DRF's renderer gives (compact, UTF-8, ISO dates), several times faster on a large grid; any other type goes
        # through DRF's encoder.
        body = orjson.dumps(payload, default=DRF_ENCODER.default)
        variant = f"csv-hxl{request.query_params.get('hxl', '0')}" if as_csv else "json"
        etag = '"{}"'.format(hashlib.sha256(f"{variant}:".encode() + body).hexdigest()[:40])
        wanted = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
        if etag in wanted or "*" in wanted:
            response = HttpResponseNotModified()
        elif as_csv:
            hxl = [aggregate_hxl_tags(request.query_params.get("outcome") or Outcome.KILLED)]
            rows = csv_stream(
                ROW_FIELDS, payload["results"], extra_header_rows=hxl if request.query_params.get("hxl") == "1" else ()
            )
            response = StreamingHttpResponse((line.encode() for line in rows), content_type="text/csv; charset=utf-8")
            filename = export_filename("aggregates", request.query_params)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            response["X-Row-Count"] = str(len(payload["results"]))
        else:
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])
        return response

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force=force)
        except Http404 as unknown_format:  # DRF's answer to an unknown ?format=
            raise ValidationError({"format": 'Use "json" or "csv".'}) from unknown_format

    def options(self, request, *args, **kwargs):
        # The description of the endpoint is JSON whatever format was asked for.
        self._answer_in_json()
        return super().options(request, *args, **kwargs)

    def handle_exception(self, exc):
        # Errors are always JSON, a CSV download included, so every client can read the message.
        response = super().handle_exception(exc)
        self._answer_in_json()
        return response

    def _answer_in_json(self) -> None:
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
