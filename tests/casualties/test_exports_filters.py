"""Every filter of every export: the export holds exactly the rows the filter selects."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from casualties.choices import ReviewStatus
from casualties.roles import RESEARCHER
from tests.exports import receipt_row_count
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
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = datetime.date


@pytest.fixture
def data(api_client):
    """Incident a (Saraqib, July 2017, SOHR), b (Turkey, 2016, SNHR, airstrike, injured), c (submitted);
    period totals p (Idlib, July 2017, SOHR) and q (Turkey, 2016, SNHR). Exports as a researcher."""
    researcher = UserFactory()
    researcher.groups.add(Group.objects.get(name=RESEARCHER))
    api_client.force_authenticate(researcher)
    syria = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    saraqib = RegionFactory(code="SY070003", name="Saraqib", parent=RegionFactory(code="SY0700", parent=idlib))
    turkey = RegionFactory(code="TUR", name="Turkey")
    sohr = SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR")
    snhr = SourceFactory(name="Syrian Network for Human Rights", acronym="SNHR")
    sohr_report = ReportFactory(source=sohr)
    snhr_report = ReportFactory(source=snhr, published_on=D(2016, 5, 2))
    objects = {}
    a = objects["a"] = IncidentFactory(title="Clashes in Saraqib", region=saraqib, date_start=D(2017, 7, 19))
    IncidentActorFactory(incident=a, actor=ActorFactory(name="Ahrar al-Sham"), role="side_a")
    objects["a_killed"] = TallyFactory(incident=a, report=sohr_report, best=40)
    objects["a_combatants"] = TallyFactory(incident=a, report=sohr_report, status="combatant", best=12)
    objects["a_children"] = TallyFactory(incident=a, report=sohr_report, group="children", best=3)
    c = objects["c"] = IncidentFactory(region=saraqib, status=ReviewStatus.SUBMITTED)
    objects["c_killed"] = TallyFactory(incident=c, report=sohr_report, best=1)
    july = ReportingPeriodFactory(date_start=D(2017, 7, 1), date_end=D(2017, 7, 31))
    objects["p"] = TallyFactory(incident=None, region=idlib, reporting_period=july, report=sohr_report, best=120)
    objects["since"] = timezone.now()
    b = objects["b"] = IncidentFactory(
        title="Airstrike",
        region=turkey,
        date_start=D(2016, 5, 1),
        incident_type=IncidentTypeFactory(code="airstrike", name="Airstrike"),
    )
    IncidentActorFactory(incident=b, actor=ActorFactory(name="Foreign air force"), role="perpetrator")
    objects["b_injured"] = TallyFactory(incident=b, report=snhr_report, outcome="injured", best=7)
    may = ReportingPeriodFactory(date_start=D(2016, 5, 1), date_end=D(2016, 5, 31))
    objects["q"] = TallyFactory(incident=None, region=turkey, reporting_period=may, report=snhr_report, best=9)
    objects["sohr_report"], objects["snhr_report"] = sohr_report, snhr_report
    return objects


def exported_ids(api_client, url: str, params: dict) -> list[str]:
    response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert receipt_row_count(api_client, response) == len(rows)
    return [row["incident_id"] if "incidents" in url else row["tally_id"] for row in rows]


def resolve(data: dict, params: dict) -> dict:
    """Parameter values written as "@name" stand for something of ``data``."""
    values = {
        "@since": lambda: data["since"].isoformat(),
        "@snhr_report": lambda: str(data["snhr_report"].pk),
        "@a": lambda: str(data["a"].public_id),
    }
    return {key: values[value]() if value in values else value for key, value in params.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["a", "b"]),
        ({"date_from": "2017-01-01"}, ["a"]),
        ({"date_to": "2016-12-31"}, ["b"]),
        ({"region": "SY07"}, ["a"]),
        ({"country": "TUR"}, ["b"]),
        ({"actor": "Ahrar al-Sham"}, ["a"]),
        ({"actor_role": "perpetrator"}, ["b"]),
        ({"actor": "Ahrar al-Sham", "actor_role": "perpetrator"}, []),
        ({"incident_type": "airstrike"}, ["b"]),
        ({"status": "submitted"}, ["c"]),
        ({"source": "SNHR"}, ["b"]),
        ({"report": "@snhr_report"}, ["b"]),
        ({"outcome": "injured"}, ["b"]),
        ({"casualty_status": "combatant"}, ["a"]),
        ({"q": "saraqib"}, ["a"]),
        ({"updated_since": "@since"}, ["b"]),
        ({"ordering": "date_start"}, ["a", "b"]),
    ],
)
def test_incident_export_filter(api_client, data, params, expected):
    ids = exported_ids(api_client, "/api/v1/exports/incidents.csv", resolve(data, params))
    assert ids == [str(data[name].public_id) for name in expected]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["a_killed", "a_combatants", "a_children", "c_killed", "p", "b_injured", "q"]),
        ({"incident": "@a"}, ["a_killed", "a_combatants", "a_children"]),
        ({"region": "SY07"}, ["p"]),
        ({"source": "SNHR"}, ["b_injured", "q"]),
        ({"report": "@snhr_report"}, ["b_injured", "q"]),
        ({"is_period_total": "true"}, ["p", "q"]),
        ({"is_period_total": "false"}, ["a_killed", "a_combatants", "a_children", "c_killed", "b_injured"]),
        ({"outcome": "injured"}, ["b_injured"]),
        ({"status": "combatant"}, ["a_combatants"]),
        ({"group": "children"}, ["a_children"]),
        ({"updated_since": "@since"}, ["b_injured", "q"]),
    ],
)
def test_tally_export_filter(api_client, data, params, expected):
    ids = exported_ids(api_client, "/api/v1/exports/tallies.csv", resolve(data, params))
    assert ids == [str(data[name].pk) for name in expected]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["p", "q"]),
        ({"date_from": "2017-07-31"}, ["p"]),
        ({"date_to": "2017-06-30"}, ["q"]),
        ({"date_from": "2016-06-01", "date_to": "2017-06-30"}, []),
        ({"region": "TUR"}, ["q"]),
        ({"source": "SOHR"}, ["p"]),
        ({"report": "@snhr_report"}, ["q"]),
        ({"outcome": "injured"}, []),
        ({"updated_since": "@since"}, ["q"]),
    ],
)
def test_period_total_export_filter(api_client, data, params, expected):
    ids = exported_ids(api_client, "/api/v1/exports/period-totals.csv", resolve(data, params))
    assert ids == [str(data[name].pk) for name in expected]
