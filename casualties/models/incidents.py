import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import DateRangeField
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q

from core.models import ChecksInOneQuery, date_range_errors, not_in_future

from ..choices import ActorRole, DatePrecision, LocationPrecision, RegionLevel, RemovalReason, ReviewStatus
from ..search import INCIDENT_TEXT_FIELDS, SearchText
from .common import audited, point_valid

# The location precision a region of each level can honestly claim.
PRECISION_FOR_LEVEL = {
    RegionLevel.COUNTRY: LocationPrecision.COUNTRY,
    RegionLevel.ADMIN1: LocationPrecision.ADMIN1,
    RegionLevel.ADMIN2: LocationPrecision.ADMIN2,
    RegionLevel.ADMIN3: LocationPrecision.ADMIN3,
}


# The public set: the incidents that count in aggregates and exports and that anyone may read. This is its one
# definition; the Q, the SQL and the test on one incident are derived from it, and the SQL function
# casualties_incident_is_public (sql/public_set.sql) is held equal to it by tests/casualties/test_public_set.py.
PUBLIC_SET: dict[str, object] = {"status": ReviewStatus.VERIFIED.value, "duplicate_of_id": None}


def counted_filter(prefix: str = "") -> Q:
    """The public set as a filter on incidents (``prefix``: the path to an incident, e.g. ``"incident__"``)."""
    return Q(
        **{
            (f"{prefix}{field.removesuffix('_id')}__isnull" if value is None else f"{prefix}{field}"): (
                True if value is None else value
            )
            for field, value in PUBLIC_SET.items()
        }
    )


def public_sql(row: str) -> str:
    """The public set as an SQL condition on the incident row ``row`` (a table alias, or OLD/NEW in a trigger)."""
    return (
        "("
        + " AND ".join(
            f"{row}.{field} IS NULL" if value is None else f"{row}.{field} = '{value}'"
            for field, value in PUBLIC_SET.items()
        )
        + ")"
    )


def incident_span() -> Func:
    """The incident's dates as one range, both ends included: what the span index holds."""
    return Func(
        F("date_start"), F("date_end"), template="daterange(%(expressions)s, '[]')", output_field=DateRangeField()
    )


class IncidentTypeManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


@audited
class IncidentType(ChecksInOneQuery):
    """A term of the managed incident-type vocabulary (armed clash, airstrike, shelling, ...)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = IncidentTypeManager()

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self):
        return (self.code,)


class IncidentQuerySet(models.QuerySet):
    def counted(self) -> "IncidentQuerySet":
        """Incidents that count in public aggregates and exports: the public set."""
        return self.filter(counted_filter())

    def in_region(self, region) -> "IncidentQuerySet":
        return self.filter(region__path__startswith=region.path)


class IncidentManager(models.Manager.from_queryset(IncidentQuerySet)):
    def get_by_natural_key(self, public_id):
        return self.get(public_id=public_id)


@audited(exclude=["version_mark"])
class Incident(ChecksInOneQuery):
    """One event at one place and time: the unit of de-duplication that tallies are about."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, help_text="Written by staff; never pasted article text.")
    date_start = models.DateField()
    date_end = models.DateField(help_text="Inclusive; the same as the start for a one-day event.")
    date_precision = models.CharField(max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY)
    region = models.ForeignKey("Region", on_delete=models.PROTECT, related_name="incidents")
    place_name = models.CharField(max_length=300, blank=True, help_text="The place as reported.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    location_precision = models.CharField(max_length=10, choices=LocationPrecision.choices)
    incident_type = models.ForeignKey(IncidentType, on_delete=models.PROTECT, related_name="incidents")
    actors = models.ManyToManyField("Actor", through="IncidentActor", related_name="incidents", blank=True)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates")
    external_id = models.CharField(max_length=200, blank=True, help_text="A client's own id, for idempotent creates.")
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Raised by every change.")
    # Which write last raised the version (casualties_write_mark()), so that one write raises it once.
    version_mark = models.TextField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = IncidentManager()

    class Meta:
        ordering = ["-date_start", "-id"]
        permissions = [
            ("submit_incident", "Can submit incidents for review"),
            ("review_incident", "Can verify, reject and return incidents"),
            ("merge_incident", "Can merge duplicate incidents"),
            ("change_reviewed_incident", "Can edit submitted, verified and rejected incidents"),
            ("view_unpublished_incident", "Can see other people's unverified incidents"),
            ("export_data", "Can export data as CSV"),
        ]
        indexes = [
            models.Index(fields=["date_start", "date_end"], name="casualties_incident_dates"),
            models.Index(fields=["status", "date_start"], name="casualties_incident_status"),
            # Incidents whose dates overlap a window: the possible duplicates' candidates. The dates alone: with the
            # region as a second column PostgreSQL took this index for probes by region, and searched all of it.
            GistIndex(incident_span(), name="casualties_incident_span"),
            # Text search (casualties.search) reads the folded title, description and place as reported.
            *(
                GinIndex(OpClass(SearchText(field), name="gin_trgm_ops"), name=f"casualties_incident_{short}_fold")
                for field, short in zip(INCIDENT_TEXT_FIELDS, ("title", "descr", "place"), strict=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_start__lte=F("date_end")), name="%(app_label)s_%(class)s_dates_ordered"
            ),
            models.CheckConstraint(condition=not_in_future("date_end"), name="%(app_label)s_%(class)s_not_future"),
            models.CheckConstraint(condition=point_valid(), name="%(app_label)s_%(class)s_point_valid"),
            models.CheckConstraint(
                condition=~Q(location_precision__in=[LocationPrecision.EXACT, LocationPrecision.NEAR])
                | Q(latitude__isnull=False),
                name="%(app_label)s_%(class)s_point_for_precise_location",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values),
                name="%(app_label)s_%(class)s_date_precision_valid",
            ),
            models.CheckConstraint(
                condition=Q(location_precision__in=LocationPrecision.values),
                name="%(app_label)s_%(class)s_location_precision_valid",
            ),
            models.CheckConstraint(
                condition=~Q(duplicate_of=F("id")), name="%(app_label)s_%(class)s_not_duplicate_of_itself"
            ),
            models.UniqueConstraint(
                fields=["created_by", "external_id"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="incident_public_id_immutable",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(old__public_id__df=pgtrigger.F("new__public_id")),
                func="RAISE EXCEPTION 'an incident''s public id never changes' USING ERRCODE = 'check_violation';",
            ),
            pgtrigger.Trigger(
                # A save that changes nothing leaves the version alone, so it cannot fake a conflict; a write that
                # already raised it (the same service call, or the same transaction elsewhere) does not raise it
                # again. Figures and actors raise it through casualties_raise_incident_versions (sql/versions.sql).
                name="incident_version",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.AnyChange(exclude=["updated_at", "version", "version_mark"]),
                func="""
                NEW.version := OLD.version
                  + CASE WHEN OLD.version_mark IS DISTINCT FROM casualties_write_mark() THEN 1 ELSE 0 END;
                NEW.version_mark := casualties_write_mark();
                NEW.updated_at := now();
                RETURN NEW;
                """,
            ),
            pgtrigger.Trigger(
                # A new incident is at version 1 however many figures and actors its creating write adds.
                name="incident_version_on_insert",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                func="NEW.version := 1; NEW.version_mark := casualties_write_mark(); RETURN NEW;",
            ),
            # Sync clients learn of incidents that left the public set from IncidentRemoval rows.
            pgtrigger.Trigger(
                name="incident_removal_on_update",
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                condition=pgtrigger.Condition(f"({public_sql('OLD')} AND NOT {public_sql('NEW')})"),
                func=f"""
                INSERT INTO casualties_incidentremoval (public_id, removed_at, reason, merged_into)
                VALUES (NEW.public_id, now(),
                        CASE WHEN NEW.duplicate_of_id IS NOT NULL THEN '{RemovalReason.MERGED}'
                             WHEN NEW.status = '{ReviewStatus.REJECTED}' THEN '{RemovalReason.REJECTED}'
                             ELSE '{RemovalReason.UNVERIFIED}' END,
                        (SELECT public_id FROM casualties_incident WHERE id = NEW.duplicate_of_id));
                RETURN NULL;
                """,
            ),
            pgtrigger.Trigger(
                name="incident_removal_on_delete",
                operation=pgtrigger.Delete,
                when=pgtrigger.After,
                condition=pgtrigger.Condition(public_sql("OLD")),
                func=f"""
                INSERT INTO casualties_incidentremoval (public_id, removed_at, reason)
                VALUES (OLD.public_id, now(), '{RemovalReason.DELETED}');
                RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.date_start:%Y-%m-%d})"

    def natural_key(self):
        return (str(self.public_id),)

    @property
    def review_state(self) -> str:
        """Where the incident stands for a reader: its review status, or that it was merged into another."""
        if self.duplicate_of_id is not None:
            return f"Merged into incident #{self.duplicate_of_id}"
        return self.get_status_display()

    @property
    def is_counted(self) -> bool:
        """In the public set."""
        return all(getattr(self, field) == value for field, value in PUBLIC_SET.items())

    def clean(self) -> None:
        errors = date_range_errors(start=self.date_start, end=self.date_end)
        if self.region_id and self.location_precision:
            region_level = self.region.level
            claimed = PRECISION_FOR_LEVEL.get(region_level)
            coarse = list(PRECISION_FOR_LEVEL.values())
            if self.location_precision in coarse and self.location_precision != claimed:
                errors["location_precision"] = (
                    f"The region is a {RegionLevel(region_level).label.lower()}; a location known only to that "
                    f"unit has precision '{LocationPrecision(claimed).label if claimed else 'exact or near'}'."
                )
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = (
                "Give both latitude and longitude, or neither."
            )
        if self.location_precision in (LocationPrecision.EXACT, LocationPrecision.NEAR) and self.latitude is None:
            errors.setdefault("latitude", "An exact or nearby location needs its latitude and longitude.")
        if self.duplicate_of_id and self.duplicate_of_id == self.pk:
            errors["duplicate_of"] = "An incident cannot be a duplicate of itself."
        if errors:
            raise ValidationError(errors)


@audited
class IncidentActor(ChecksInOneQuery):
    """An actor's part in an incident: a side of a clash, the perpetrator or the target."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actor_roles")
    actor = models.ForeignKey("Actor", on_delete=models.PROTECT, related_name="incident_roles")
    role = models.CharField(max_length=20, choices=ActorRole.choices)

    class Meta:
        ordering = ["incident", "role", "actor"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "actor", "role"], name="%(app_label)s_%(class)s_unique_incident_actor_role"
            ),
            models.CheckConstraint(condition=Q(role__in=ActorRole.values), name="%(app_label)s_%(class)s_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} as {self.get_role_display()}"


class IncidentRemoval(models.Model):
    """An incident that left the public set (rejected, returned to review, merged or deleted), and when.

    Written by database triggers on the incident table, whatever path the change came by, so
    clients syncing the public set can drop what they hold. Never edited.
    """

    public_id = models.UUIDField(db_index=True)
    removed_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=10, choices=RemovalReason.choices)
    merged_into = models.UUIDField(null=True, blank=True, help_text="The incident it was merged into.")

    class Meta:
        ordering = ["removed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=RemovalReason.values), name="%(app_label)s_%(class)s_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.reason} at {self.removed_at:%Y-%m-%d %H:%M}"
