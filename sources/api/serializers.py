"""Sources and reports in the API, and the write rules every writable resource shares.

Writes validate on the model (``full_clean``), as the admin does, and a database constraint
that still refuses a row becomes a 400, never a 500 or a partial write. A create that names an
existing row by its natural or external key is a retry: the same content returns the row, other
content is a 409. An update carries the version it read; a stale one is a 409.
"""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

from core.api import ChangeGuardMixin

from ..models import Report, Source


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = [
            "id", "name", "acronym", "kind", "country", "website", "reliability", "description",
            "created_at", "updated_at",
        ]  # fmt: skip


class SourceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "name", "acronym"]


class ReportSerializer(ChangeGuardMixin, serializers.ModelSerializer):
    """A source's publication. Created idempotently by (source, external_id) when an external id is given."""

    updated_at = serializers.DateTimeField(
        required=False, help_text="Read-only on create; on update, the value you last read (a stale one is a 409)."
    )

    class Meta:
        model = Report
        fields = [
            "id", "source", "title", "url", "archive_url", "published_on", "language", "external_id", "summary",
            "credibility", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]
        validators = []  # the model's constraints are checked by full_clean on save

    def existing_for(self, data: Mapping) -> Report | None:
        if not data.get("external_id") or not data.get("source"):
            return None
        return Report.objects.filter(source=data["source"], external_id=data["external_id"]).first()
