"""Sources and reports in the API; report writes go through sources.services (core.api maps their refusals)."""

from __future__ import annotations

from rest_framework import serializers

from core.api import ServiceWriteMixin

from ..models import Report, Source
from ..services import report_create, report_update


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


class ReportSerializer(ServiceWriteMixin, serializers.ModelSerializer):
    """A source's publication. Created idempotently by (source, external_id), else by (source, url)."""

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
        validators = []  # the services check the model's rules and constraints

    def create_with(self, user, data: dict) -> tuple[Report, bool]:
        data.pop("updated_at", None)
        return report_create(user=user, **data)

    def update_with(self, user, report: Report, data: dict) -> Report:
        read_at = data.pop("updated_at", None)
        return report_update(user=user, report=report, read_at=read_at, changes=data)
