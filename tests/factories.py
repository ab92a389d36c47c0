"""factory_boy factories for every model; tests build their data inline with these."""

import datetime

import factory
from django.contrib.auth import get_user_model

from casualties.choices import CasualtyGroup, CasualtyStatus, LocationPrecision, Outcome, ReviewStatus
from casualties.models import (
    Actor,
    CasualtyTally,
    Incident,
    IncidentActor,
    IncidentType,
    Region,
    ReportingPeriod,
)
from sources.choices import SourceKind
from sources.models import Report, Source


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = SourceKind.MONITORING_GROUP


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    source = factory.SubFactory(SourceFactory)
    title = factory.Sequence(lambda n: f"Report {n}")
    url = factory.Sequence(lambda n: f"https://example.org/reports/{n}")
    published_on = datetime.date(2017, 7, 20)


class RegionFactory(factory.django.DjangoModelFactory):
    """A country by default; pass ``parent`` for a unit one level below it."""

    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"R{n:05d}")
    name = factory.Sequence(lambda n: f"Region {n}")
    parent = None
    level = factory.LazyAttribute(lambda r: r.parent.level + 1 if r.parent else 0)


class IncidentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentType
        django_get_or_create = ("code",)

    code = "armed-clash"
    name = "Armed clash"


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Armed group {n}")
    kind = "non_state_armed_group"


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Incident {n}")
    date_start = datetime.date(2017, 7, 19)
    date_end = factory.LazyAttribute(lambda i: i.date_start)
    region = factory.SubFactory(RegionFactory)
    location_precision = factory.LazyAttribute(
        lambda i: (
            [
                LocationPrecision.COUNTRY,
                LocationPrecision.ADMIN1,
                LocationPrecision.ADMIN2,
                LocationPrecision.ADMIN3,
                LocationPrecision.NEAR,
            ][i.region.level]
            if i.region.level < 4
            else LocationPrecision.NEAR
        )
    )
    latitude = factory.LazyAttribute(lambda i: 35.9 if i.location_precision in ("exact", "near") else None)
    longitude = factory.LazyAttribute(lambda i: 36.6 if i.location_precision in ("exact", "near") else None)
    incident_type = factory.SubFactory(IncidentTypeFactory)
    status = ReviewStatus.VERIFIED


class IncidentActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentActor

    incident = factory.SubFactory(IncidentFactory)
    actor = factory.SubFactory(ActorFactory)
    role = "side_a"


class ReportingPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingPeriod
        django_get_or_create = ("date_start", "date_end")

    date_start = datetime.date(2017, 7, 19)
    date_end = datetime.date(2017, 7, 20)


class TallyFactory(factory.django.DjangoModelFactory):
    """A figure about an incident; pass region and reporting_period (and incident=None) for a period total."""

    class Meta:
        model = CasualtyTally

    report = factory.SubFactory(ReportFactory)
    incident = factory.SubFactory(IncidentFactory)
    outcome = Outcome.KILLED
    status = CasualtyStatus.CIVILIAN
    group = CasualtyGroup.ALL
    best = 10
    low = factory.LazyAttribute(lambda t: t.best)
    high = factory.LazyAttribute(lambda t: t.best)
