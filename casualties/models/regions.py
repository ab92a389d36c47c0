import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now, Upper

from ..choices import RegionLevel
from .common import ChecksInOneQuery, audited, point_valid, touch_updated_at

PATH_SEPARATOR = "/"


class RegionQuerySet(models.QuerySet):
    def subtree(self, region: "Region") -> "RegionQuerySet":
        """The region and all its descendants: one indexed prefix match on the path."""
        return self.filter(path__startswith=region.path)


class RegionManager(models.Manager.from_queryset(RegionQuerySet)):
    def get_by_natural_key(self, code):
        return self.get(code=code)


@audited
class Region(ChecksInOneQuery):
    """One unit of the gazetteer: a country, governorate, district, sub-district or community.

    ``path`` is the materialized chain of codes from the country down to this unit
    ("SYR/SY07/SY0700/"), kept by a database trigger, so "everything in Idlib" is one
    indexed prefix match and the ancestor at level N is the N+1-th path element.
    """

    code = models.CharField(max_length=20, unique=True, help_text="OCHA p-code, ISO 3166-1 alpha-3 or ISO 3166-2.")
    iso_code = models.CharField(max_length=10, blank=True, help_text="ISO 3166-1 alpha-3 or ISO 3166-2 code.")
    name = models.CharField(max_length=200)
    name_local = models.CharField(max_length=200, blank=True, help_text="Name in the local script (Arabic).")
    alternate_names = ArrayField(
        models.CharField(max_length=200), default=list, blank=True, help_text="Other spellings and transliterations."
    )
    level = models.PositiveSmallIntegerField(choices=RegionLevel.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    path = models.CharField(max_length=255, editable=False, unique=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    search_names = models.TextField(editable=False, default="", help_text="All names, folded for search.")
    # The database default fills rows loaded from fixtures that predate the column.
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), db_index=True)

    objects = RegionManager()

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(OpClass("path", name="varchar_pattern_ops"), name="casualties_region_path_prefix"),
            models.Index(Upper("iso_code"), name="casualties_region_iso_upper"),
            models.Index(fields=["level", "code"], name="casualties_region_level_code"),
            GinIndex(OpClass("search_names", name="gin_trgm_ops"), name="casualties_region_names_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=0, level__lte=4), name="%(app_label)s_%(class)s_level_range"),
            models.CheckConstraint(
                condition=Q(level=0, parent__isnull=True) | Q(level__gt=0, parent__isnull=False),
                name="%(app_label)s_%(class)s_only_countries_are_roots",
            ),
            models.CheckConstraint(condition=point_valid(), name="%(app_label)s_%(class)s_centroid_valid"),
            models.CheckConstraint(
                condition=~Q(code__contains=PATH_SEPARATOR) & ~Q(code=""), name="%(app_label)s_%(class)s_code_valid"
            ),
            models.UniqueConstraint(
                fields=["iso_code"], condition=~Q(iso_code=""), name="%(app_label)s_%(class)s_unique_iso_code"
            ),
        ]
        triggers = [
            touch_updated_at(),
            pgtrigger.Trigger(
                name="region_path",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func="""
                DECLARE parent_path text; parent_level smallint;
                BEGIN
                  IF NEW.parent_id IS NULL THEN
                    NEW.path := NEW.code || '/';
                  ELSE
                    SELECT path, level INTO parent_path, parent_level FROM casualties_region WHERE id = NEW.parent_id;
                    IF NEW.level <> parent_level + 1 THEN
                      RAISE EXCEPTION 'region % has level % but its parent is at level %',
                        NEW.code, NEW.level, parent_level USING ERRCODE = 'check_violation';
                    END IF;
                    NEW.path := parent_path || NEW.code || '/';
                  END IF;
                  NEW.search_names := casualties_search_text(concat_ws(' ', NEW.code, NULLIF(NEW.iso_code, ''),
                                                     NEW.name, NULLIF(NEW.name_local, ''),
                                                     NULLIF(array_to_string(NEW.alternate_names, ' '), '')));
                  RETURN NEW;
                END;
                """,
            ),
            pgtrigger.Trigger(
                name="region_path_cascade",
                # Not UPDATE OF path: the path changes by the trigger above when only code or parent is set.
                # Touches the region's subtree (children by the parent_id index), never the rest of the gazetteer.
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                condition=pgtrigger.Q(old__path__df=pgtrigger.F("new__path")),
                func="""
                UPDATE casualties_region SET path = path WHERE parent_id = NEW.id;
                RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        # Mirror the trigger so the instance in memory agrees with its row.
        parent_path = self.parent.path if self.parent_id else ""
        self.path = f"{parent_path}{self.code}{PATH_SEPARATOR}"
        super().save(*args, **kwargs)

    def natural_key(self):
        return (self.code,)

    def clean(self) -> None:
        if self.parent_id is None and self.level != RegionLevel.COUNTRY:
            raise ValidationError({"parent": "Every unit below a country needs its parent unit."})
        if self.parent_id is not None and self.level != self.parent.level + 1:
            raise ValidationError(
                {"level": f"The parent {self.parent} is at level {self.parent.level}; this unit must be one below it."}
            )

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes from the country down to this region's parent."""
        return self.path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]
