from django.conf import settings
from django.db import models
from django.db.models import Q


class ExportLog(models.Model):
    """One CSV export: who asked for what, how many rows it had and whether they all left the server.

    Written when the export starts and updated when its stream ends: ``completed`` when every row
    was sent (with the count and the sha256 of every byte of the body), ``cut`` when the client went away
    first, ``failed`` on an error. An export whose worker was killed cannot say so itself: its row stays
    ``started`` until ``casualties.exports.export_logs_settle`` finds its database connection gone and marks it
    ``failed`` (the receipt, the next export and the admin's list ask it).
    """

    class Status(models.TextChoices):
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"
        CUT = "cut", "Cut off by the client"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="export_logs"
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    endpoint = models.CharField(max_length=100, help_text="The export: incidents, tallies, period-totals, ...")
    via = models.CharField(max_length=10, default="api", help_text="api or admin.")
    query = models.JSONField(default=dict, blank=True, help_text="The query parameters (filters) as sent.")
    row_count = models.PositiveBigIntegerField(null=True, blank=True, help_text="Rows in the export.")
    rows_sent = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTED)
    bytes_sent = models.PositiveBigIntegerField(default=0, help_text="Bytes of the body sent, header included.")
    sha256 = models.CharField(
        max_length=64, blank=True, help_text="Hex sha256 of the whole body, once completed; empty before."
    )
    # The export's own database session (pg_stat_activity's pid and backend_start): while it lives, the export runs.
    backend_pid = models.IntegerField(null=True, blank=True, editable=False)
    backend_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(status="started"), name="casualties_exportlog_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["started", "completed", "cut", "failed"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} export at {self.started_at:%Y-%m-%d %H:%M}: {self.status}"
