"""The whole API map under /api/v1/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from casualties.api.aggregates import AggregateView
from casualties.api.exports import (
    ExportReceiptView,
    IncidentExportView,
    PeriodTotalExportView,
    TallyExportView,
)
from casualties.api.views import (
    ActorViewSet,
    CasualtyTallyViewSet,
    IncidentRemovalViewSet,
    IncidentViewSet,
    RegionViewSet,
    ReportingPeriodViewSet,
)
from sources.api.views import ReportViewSet, SourceViewSet

router = DefaultRouter()
router.register("incidents/removed", IncidentRemovalViewSet, basename="incident-removal")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("sources", SourceViewSet, basename="source")
router.register("reports", ReportViewSet, basename="report")
router.register("regions", RegionViewSet, basename="region")
router.register("actors", ActorViewSet, basename="actor")
router.register("reporting-periods", ReportingPeriodViewSet, basename="reporting-period")
router.register("tallies", CasualtyTallyViewSet, basename="tally")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("aggregates/", AggregateView.as_view(), name="aggregates"),
    path("exports/incidents.csv", IncidentExportView.as_view(), name="export-incidents"),
    path("exports/tallies.csv", TallyExportView.as_view(), name="export-tallies"),
    path("exports/period-totals.csv", PeriodTotalExportView.as_view(), name="export-period-totals"),
    path("exports/receipts/<str:token>/", ExportReceiptView.as_view(), name="export-receipt"),
    *router.urls,
]
