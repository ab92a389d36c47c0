from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q

from sources.models import validate_country_alpha3

from ..choices import ActorKind
from ..search import SearchText, text_contains
from .common import ChecksInOneQuery, audited, touch_updated_at


class ActorQuerySet(models.QuerySet):
    def named(self, text: str) -> "ActorQuerySet":
        """Actors whose current or any other name (Arabic ones too, as search folds them) contains ``text``,
        or whose acronym is ``text``."""
        return self.filter(
            text_contains(text, "name", "names__name") | Q(acronym__iexact=text) | Q(names__acronym__iexact=text)
        ).distinct()


class ActorManager(models.Manager.from_queryset(ActorQuerySet)):
    def get_by_natural_key(self, name):
        return self.get(name=name)


@audited
class Actor(ChecksInOneQuery):
    """A party to violence, under its current name; its earlier names are ActorName rows."""

    name = models.CharField(max_length=200, unique=True, help_text="The current or last known name.")
    acronym = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=30, choices=ActorKind.choices)
    country = models.CharField(max_length=3, blank=True, validators=[validate_country_alpha3])
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActorManager()

    class Meta:
        ordering = ["name"]
        triggers = [touch_updated_at()]
        indexes = [GinIndex(OpClass(SearchText("name"), name="gin_trgm_ops"), name="casualties_actor_name_fold")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ActorKind.values), name="%(app_label)s_%(class)s_kind_valid")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def natural_key(self):
        return (self.name,)


@audited
class ActorName(ChecksInOneQuery):
    """A name an actor went by, and when: Jabhat al-Nusra until July 2016, then Jabhat Fatah al-Sham."""

    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    acronym = models.CharField(max_length=30, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["actor", "valid_from", "name"]
        indexes = [GinIndex(OpClass(SearchText("name"), name="gin_trgm_ops"), name="casualties_actorname_fold")]
        constraints = [
            models.UniqueConstraint(fields=["actor", "name"], name="%(app_label)s_%(class)s_unique_actor_name"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_from__lte=F("valid_to")),
                name="%(app_label)s_%(class)s_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
