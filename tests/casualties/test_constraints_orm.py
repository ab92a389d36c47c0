"""The same invariants through the ORM: a save that skips validation still meets the database's refusal."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

pytestmark = pytest.mark.django_db
FUTURE = datetime.date.today() + datetime.timedelta(days=2)


def build(factory, **fields):
    """An unsaved instance whose related rows exist, so only the save itself can fail."""
    if factory is IncidentFactory:
        fields.setdefault("incident_type", IncidentTypeFactory())
    return factory.build(**fields)


CASES = [
    ("source kind", lambda: build(SourceFactory, kind="blog")),
    ("report in the future", lambda: build(ReportFactory, source=SourceFactory(), published_on=FUTURE)),
    ("report credibility 9", lambda: build(ReportFactory, source=SourceFactory(), credibility=9)),
    ("country with a parent", lambda: build(RegionFactory, parent=RegionFactory(), level=0)),
    ("region skipping a level", lambda: build(RegionFactory, parent=RegionFactory(), level=2)),
    ("incident ending before it starts", lambda: build(
        IncidentFactory, region=RegionFactory(), date_start=datetime.date(2017, 7, 20),
        date_end=datetime.date(2017, 7, 1),
    )),
    ("incident in the future", lambda: build(IncidentFactory, region=RegionFactory(), date_start=FUTURE)),
    ("incident with half a point", lambda: build(
        IncidentFactory, region=RegionFactory(), location_precision="admin1", latitude=35.9, longitude=None
    )),
    ("exact location without a point", lambda: build(
        IncidentFactory, region=RegionFactory(), location_precision="exact", latitude=None, longitude=None
    )),
    ("actor role", lambda: build(IncidentActorFactory, incident=IncidentFactory(), actor=ActorFactory(), role="x")),
    ("period ending before it starts", lambda: build(
        ReportingPeriodFactory, date_start=datetime.date(2017, 7, 20), date_end=datetime.date(2017, 7, 19)
    )),
    ("low above best", lambda: build(
        TallyFactory, report=ReportFactory(), incident=IncidentFactory(), low=50, best=40, high=60
    )),
    ("tally with no target", lambda: build(TallyFactory, report=ReportFactory(), incident=None)),
    ("tally with both targets", lambda: build(
        TallyFactory, report=ReportFactory(), incident=IncidentFactory(), region=RegionFactory(),
        reporting_period=ReportingPeriodFactory(),
    )),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make"), CASES, ids=[case for case, _ in CASES])
def test_saving_a_row_that_breaks_an_invariant_without_validation_is_refused(case, make):
    instance = make()
    model = type(instance)
    before = model.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        instance.save()
    assert model.objects.count() == before


@pytest.mark.parametrize(("case", "make"), CASES, ids=[case for case, _ in CASES])
def test_validation_names_the_broken_invariant_before_the_database_has_to(case, make):
    from django.core.exceptions import ValidationError

    instance = make()
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    assert caught.value.messages, case


def _errors(validate, instance, exclude=None) -> dict | None:
    from django.core.exceptions import ValidationError

    try:
        validate(instance, exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return None


@pytest.mark.parametrize(("case", "make"), CASES, ids=[case for case, _ in CASES])
def test_the_checks_in_one_query_give_django_s_own_errors(case, make):
    """The model's one-query validation against Django's, a query per constraint, as the reference."""
    from django.db import connection, models
    from django.test.utils import CaptureQueriesContext

    instance = make()
    with CaptureQueriesContext(connection) as queries:
        ours = _errors(type(instance).validate_constraints, instance)
    assert ours == _errors(models.Model.validate_constraints, instance), case
    # Every check constraint in one statement (a unique constraint's condition is still Django's own query).
    assert sum('AS "_check_0"' in q["sql"] for q in queries.captured_queries) == 1
    # A field left out of the validation leaves its constraints unjudged, as in Django.
    exclude = {"low", "best", "high", "date_start", "date_end", "latitude", "longitude", "level", "role"}
    assert _errors(type(instance).validate_constraints, instance, exclude) == _errors(
        models.Model.validate_constraints, instance, exclude
    ), case


@given(
    low=st.integers(0, 5),
    best=st.integers(0, 5),
    high=st.integers(0, 5),
    outcome=st.sampled_from(["killed", "injured", "missing", "wounded"]),
    qualifier=st.sampled_from(["exact", "at_least", "roughly"]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_figure_s_checks_in_one_query_agree_with_django_s(figure_parents, low, best, high, outcome, qualifier):
    from django.db import models

    report, incident = figure_parents
    tally = TallyFactory.build(
        report=report, incident=incident, low=low, best=best, high=high, outcome=outcome, qualifier=qualifier
    )
    assert _errors(type(tally).validate_constraints, tally) == _errors(models.Model.validate_constraints, tally)


@pytest.fixture
def figure_parents():
    return ReportFactory(), IncidentFactory()
