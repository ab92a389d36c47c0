"""CSV export from the admin's incident list, and the export log for administrators.

The export takes the change list's current filters and search (ChangeList.get_queryset) and streams
them through casualties.exports, like the API's incidents.csv.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse

from .exports import INCIDENTS, export_logs_settle, export_response
from .models import ExportLog
from .roles import can_export_unpublished, can_read_export_log


class IncidentCsvExportMixin:
    """Adds "Export CSV" to an incident change list, for users with the export permission."""

    def get_urls(self):
        return [
            path(
                "export-csv/",
                self.admin_site.admin_view(self.export_csv_view),
                name="casualties_incident_export_csv",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_export_permission": can_export_unpublished(request.user)}
        return super().changelist_view(request, extra_context=extra_context)

    def export_csv_view(self, request):
        if not can_export_unpublished(request.user):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "The list's filters are not valid; nothing was exported.")
            return redirect(reverse("admin:casualties_incident_changelist"))
        # Merged duplicates never leave the database in an export: their people are counted in the original.
        incidents = changelist.get_queryset(request).filter(duplicate_of__isnull=True)
        return export_response(
            request=request, export=INCIDENTS, queryset=incidents, params=request.GET, hxl=False, via="admin"
        )


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    """Who exported what and when; written by the exports themselves, read by administrators only."""

    list_display = ["started_at", "user", "endpoint", "via", "status", "row_count", "rows_sent", "finished_at"]
    list_filter = ["status", "endpoint", "via", ("started_at", admin.DateFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    date_hierarchy = "started_at"
    fields = [
        "started_at", "user", "endpoint", "via", "status", "query", "row_count", "rows_sent", "bytes_sent", "sha256",
        "finished_at",
    ]  # fmt: skip
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        if can_read_export_log(request.user):
            export_logs_settle()  # an export whose worker was killed is listed as failed, not as running
        return super().changelist_view(request, extra_context)

    def has_module_permission(self, request) -> bool:
        return can_read_export_log(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_read_export_log(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
