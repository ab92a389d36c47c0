"""Who reported what: organisations that publish figures and their publications.

This app knows nothing of casualties; casualties depend on it.
"""

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.models import ChecksInOneQuery, audited, future_date_errors, not_in_future, touch_updated_at

from .choices import InformationCredibility, SourceKind, SourceReliability


def validate_country_alpha3(value: str) -> None:
    if value and pycountry.countries.get(alpha_3=value) is None:
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-3 country code.")


def validate_language(value: str) -> None:
    if value and pycountry.languages.get(alpha_2=value) is None and pycountry.languages.get(alpha_3=value) is None:
        raise ValidationError(f"{value!r} is not an ISO 639 language code (e.g. 'ar', 'en').")


class SourceManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


@audited
class Source(ChecksInOneQuery):
    """An organisation that publishes casualty figures (SOHR, SNHR, a news agency, a ministry, a UN body)."""

    name = models.CharField(max_length=200, unique=True)
    acronym = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    country = models.CharField(
        max_length=3, blank=True, validators=[validate_country_alpha3], help_text="ISO 3166-1 alpha-3 of the seat."
    )
    website = models.URLField(blank=True)
    reliability = models.CharField(max_length=1, blank=True, choices=SourceReliability.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceManager()

    class Meta:
        ordering = ["name"]
        triggers = [touch_updated_at()]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SourceKind.values), name="%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(
                condition=Q(reliability__in=[*SourceReliability.values, ""]),
                name="%(app_label)s_%(class)s_reliability_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def natural_key(self):
        return (self.name,)


class ReportManager(models.Manager):
    def get_by_natural_key(self, source_name, url, external_id, title):
        return self.get(source__name=source_name, url=url, external_id=external_id, title=title)


@audited
class Report(ChecksInOneQuery):
    """One publication of a source: an article, statement, bulletin or dataset release."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(max_length=500)
    url = models.URLField(max_length=1000, blank=True)
    archive_url = models.URLField(max_length=1000, blank=True, help_text="A permanent copy (e.g. web archive).")
    published_on = models.DateField()
    language = models.CharField(max_length=3, blank=True, validators=[validate_language], help_text="ISO 639 code.")
    external_id = models.CharField(max_length=200, blank=True, help_text="The source's or a client's own id.")
    summary = models.TextField(blank=True, help_text="Written by staff; never pasted article text.")
    credibility = models.PositiveSmallIntegerField(null=True, blank=True, choices=InformationCredibility.choices)
    # Who entered it: while no figure cites a report, only they (or a reviewer) may change it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportManager()

    class Meta:
        ordering = ["-published_on", "-id"]
        triggers = [touch_updated_at()]
        indexes = [models.Index(fields=["published_on"], name="sources_report_published_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "url"], condition=~Q(url=""), name="%(app_label)s_%(class)s_unique_source_url"
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_source_external_id",
            ),
            models.CheckConstraint(
                condition=not_in_future("published_on"), name="%(app_label)s_%(class)s_published_not_future"
            ),
            models.CheckConstraint(
                condition=Q(credibility__isnull=True) | Q(credibility__gte=1, credibility__lte=6),
                name="%(app_label)s_%(class)s_credibility_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.acronym or self.source.name}, {self.published_on:%Y-%m-%d}: {self.title}"

    def natural_key(self):
        return (*self.source.natural_key(), self.url, self.external_id, self.title)

    def clean(self) -> None:
        errors = future_date_errors(published_on=self.published_on)
        # The unique constraints, said with the report that already holds the key.
        for name, label in (("url", "URL"), ("external_id", "external id")):
            value = getattr(self, name)
            if not (self.source_id and value):
                continue
            same = Report.objects.filter(source_id=self.source_id, **{name: value}).exclude(pk=self.pk).first()
            if same is not None:
                errors[name] = f"{self.source} already has a report with this {label}: “{same.title}” (#{same.pk})."
        if errors:
            raise ValidationError(errors)

    natural_key.dependencies = ["sources.source"]
