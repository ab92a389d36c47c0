import datetime

import pytest
from django.http import QueryDict

from casualties.filtersets import IncidentFilterSet
from casualties.models import ActorName, Incident
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    TallyFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def filtered(query: str) -> list[str]:
    """Titles of the incidents IncidentFilterSet keeps for a query string, sorted."""
    filterset = IncidentFilterSet(QueryDict(query), queryset=Incident.objects.all())
    assert filterset.is_valid(), filterset.errors
    return sorted(filterset.qs.values_list("title", flat=True))


def errors(query: str) -> dict:
    filterset = IncidentFilterSet(QueryDict(query), queryset=Incident.objects.all())
    assert not filterset.is_valid()
    return dict(filterset.errors)


@pytest.fixture
def idlib():
    syria = RegionFactory(code="SYR", iso_code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", iso_code="SY-ID", name="Idlib", parent=syria)
    return idlib


def test_date_range_keeps_incidents_whose_dates_overlap_it():
    IncidentFactory(title="before", date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 9))
    IncidentFactory(title="straddles", date_start=datetime.date(2017, 7, 8), date_end=datetime.date(2017, 7, 12))
    IncidentFactory(title="inside", date_start=datetime.date(2017, 7, 11), date_end=datetime.date(2017, 7, 11))
    IncidentFactory(title="after", date_start=datetime.date(2017, 7, 16), date_end=datetime.date(2017, 7, 20))
    assert filtered("date_from=2017-07-10&date_to=2017-07-15") == ["inside", "straddles"]
    assert filtered("date_from=2017-07-11") == ["after", "inside", "straddles"]
    assert filtered("date_to=2017-07-08") == ["before", "straddles"]


def test_region_keeps_the_region_and_everything_inside_it(idlib):
    district = RegionFactory(code="SY0700", parent=idlib)
    aleppo = RegionFactory(code="SY02", parent=idlib.parent)
    IncidentFactory(title="governorate", region=idlib)
    IncidentFactory(title="district", region=district)
    IncidentFactory(title="aleppo", region=aleppo)
    IncidentFactory(title="country", region=idlib.parent)
    assert filtered("region=SY07") == ["district", "governorate"]
    assert filtered("region=SY0700") == ["district"]
    assert filtered("region=sy-id") == ["district", "governorate"]


def test_region_codes_share_no_prefix_confusion(idlib):
    sy070 = RegionFactory(code="SY070", parent=idlib.parent)
    IncidentFactory(title="in SY07", region=idlib)
    IncidentFactory(title="in SY070", region=sy070)
    assert filtered("region=SY07") == ["in SY07"]


def test_country_keeps_everything_in_the_country(idlib):
    turkey = RegionFactory(code="TUR", iso_code="TUR", name="Turkey")
    IncidentFactory(title="idlib", region=idlib)
    IncidentFactory(title="turkey", region=turkey)
    assert filtered("country=SYR") == ["idlib"]
    assert filtered("country=tur") == ["turkey"]


def test_a_non_country_code_is_not_a_country(idlib):
    assert errors("country=SY07") == {"country": ["No country has the code 'SY07'."]}


def test_actor_matches_by_id_current_name_or_former_name():
    hts = ActorFactory(name="Hay'at Tahrir al-Sham", acronym="HTS")
    ActorName.objects.create(actor=hts, name="Jabhat al-Nusra")
    ahrar = ActorFactory(name="Ahrar al-Sham")
    IncidentActorFactory(incident=IncidentFactory(title="with hts"), actor=hts)
    IncidentActorFactory(incident=IncidentFactory(title="with ahrar"), actor=ahrar)
    IncidentFactory(title="no actors")
    assert filtered(f"actor={hts.pk}") == ["with hts"]
    assert filtered("actor=jabhat al-nusra") == ["with hts"]
    assert filtered("actor=HTS") == ["with hts"]
    assert filtered("actor=Ahrar al-Sham") == ["with ahrar"]


def test_actor_role_with_an_actor_requires_that_actor_in_that_role():
    hts, ahrar = ActorFactory(name="HTS"), ActorFactory(name="Ahrar")
    first = IncidentFactory(title="hts side a")
    IncidentActorFactory(incident=first, actor=hts, role="side_a")
    IncidentActorFactory(incident=first, actor=ahrar, role="side_b")
    second = IncidentFactory(title="hts perpetrator")
    IncidentActorFactory(incident=second, actor=hts, role="perpetrator")
    assert filtered("actor=HTS&actor_role=side_b") == []
    assert filtered("actor=HTS&actor_role=side_a") == ["hts side a"]
    assert filtered("actor_role=perpetrator") == ["hts perpetrator"]


def test_incident_type_matches_codes():
    IncidentFactory(title="clash", incident_type=IncidentTypeFactory(code="armed-clash", name="Armed clash"))
    IncidentFactory(title="airstrike", incident_type=IncidentTypeFactory(code="airstrike", name="Airstrike"))
    IncidentFactory(title="shelling", incident_type=IncidentTypeFactory(code="shelling", name="Shelling"))
    assert filtered("incident_type=airstrike") == ["airstrike"]
    assert filtered("incident_type=airstrike&incident_type=shelling") == ["airstrike", "shelling"]


def test_status_matches_review_statuses():
    IncidentFactory(title="verified")
    IncidentFactory(title="draft", status="draft")
    IncidentFactory(title="rejected", status="rejected")
    assert filtered("status=draft&status=rejected") == ["draft", "rejected"]


def test_source_and_report_keep_incidents_they_gave_figures_for():
    sohr = ReportFactory(source__name="Syrian Observatory", source__acronym="SOHR")
    snhr = ReportFactory(source__name="Syrian Network", source__acronym="SNHR")
    TallyFactory(incident=IncidentFactory(title="by sohr"), report=sohr)
    TallyFactory(incident=IncidentFactory(title="by snhr"), report=snhr)
    IncidentFactory(title="no figures")
    assert filtered("source=sohr") == ["by sohr"]
    assert filtered(f"source={snhr.source.pk}") == ["by snhr"]
    assert filtered("source=Syrian Network") == ["by snhr"]
    assert filtered(f"report={sohr.pk}") == ["by sohr"]


def test_outcome_and_casualty_status_must_hold_for_one_figure():
    both = IncidentFactory(title="civilians killed, combatants injured")
    TallyFactory(incident=both, outcome="killed", status="civilian")
    TallyFactory(incident=both, outcome="injured", status="combatant")
    injured = IncidentFactory(title="civilians injured")
    TallyFactory(incident=injured, outcome="injured", status="civilian")
    assert filtered("outcome=killed") == ["civilians killed, combatants injured"]
    assert filtered("outcome=injured&casualty_status=civilian") == ["civilians injured"]
    assert filtered("casualty_status=combatant") == ["civilians killed, combatants injured"]
    assert filtered("outcome=missing") == []


def test_q_searches_title_description_and_place_name():
    IncidentFactory(title="Clashes in Saraqib")
    IncidentFactory(title="Shelling", description="Shells fell on SARAQIB market")
    IncidentFactory(title="Raid", place_name="Zaweya Mountains")
    IncidentFactory(title="Elsewhere")
    assert filtered("q=saraqib") == ["Clashes in Saraqib", "Shelling"]
    assert filtered("q=zaweya") == ["Raid"]


def test_updated_since_keeps_incidents_changed_at_or_after_it():
    old, new = IncidentFactory(title="old"), IncidentFactory(title="new")
    Incident.objects.filter(pk=old.pk).update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    Incident.objects.filter(pk=new.pk).update(updated_at=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC))
    assert filtered("updated_since=2021-01-01T00:00:00Z") == ["new"]
    assert filtered("updated_since=2020-06-01T00:00:00%2B00:00") == ["new"]


def test_ordering_sorts_with_id_as_the_tie_breaker():
    a = IncidentFactory(title="a", date_start=datetime.date(2017, 7, 1))
    b = IncidentFactory(title="b", date_start=datetime.date(2017, 7, 3))
    c = IncidentFactory(title="c", date_start=datetime.date(2017, 7, 1))
    filterset = IncidentFilterSet(QueryDict("ordering=date_start"), queryset=Incident.objects.all())
    assert list(filterset.qs) == [a, c, b]
    filterset = IncidentFilterSet(QueryDict("ordering=-date_start"), queryset=Incident.objects.all())
    assert list(filterset.qs) == [b, c, a]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("region=XX99", "region"),
        ("country=XXX", "country"),
        ("actor=Nobody", "actor"),
        ("actor=999999", "actor"),
        ("actor_role=bystander", "actor_role"),
        ("incident_type=picnic", "incident_type"),
        ("status=published", "status"),
        ("source=NOSUCH", "source"),
        ("report=abc", "report"),
        ("report=999999", "report"),
        ("outcome=dead", "outcome"),
        ("casualty_status=soldier", "casualty_status"),
        ("date_from=2017-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("updated_since=last week", "updated_since"),
        ("ordering=title", "ordering"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api_client, query, parameter):
    response = api_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [parameter]
    assert isinstance(response.json()[parameter][0], str)


def test_an_unknown_region_message_names_the_code(api_client):
    response = api_client.get(URL, {"region": "XX99"})
    assert response.json() == {"region": ["No region has the code 'XX99'."]}


def test_a_nul_character_in_a_parameter_is_a_400(api_client):
    response = api_client.get(URL, {"q": "a\x00b"})
    assert response.status_code == 400
    assert list(response.json()) == ["q"]


def test_an_unknown_code_with_a_percent_sign_is_a_400_quoting_it(api_client):
    response = api_client.get(URL, {"actor": "100%s"})
    assert response.status_code == 400
    assert response.json() == {"actor": ["No actor has the id, name or former name '100%s'."]}
