from django.conf import settings
from django.db import models
from django.db.models import Q


class ExportLog(models.Model):
    """One CSV export: who asked for what, how many rows it had and whether they all left the server.

    Written when the export starts and updated when its stream ends: ``completed`` when every row
    was sent, ``cut`` when the client went away first, ``failed`` on an error.
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

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["started", "completed", "cut", "failed"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} export at {self.started_at:%Y-%m-%d %H:%M}: {self.status}"
