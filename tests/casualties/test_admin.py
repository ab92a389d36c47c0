"""The incident page and change lists of the data-entry admin, driven through the Django test client."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casualties.admin import common
from casualties.admin.filters import CountryFilter
from casualties.models import ActorName, CasualtyTally, Estimate, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from tests.factories import (
    ActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    SourceFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:casualties_incident_add")


def change_url(incident) -> str:
    return reverse("admin:casualties_incident_change", args=[incident.pk])


def logged_in(role: str, username: str) -> tuple[Client, object]:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client, user


def form_data(response) -> dict:
    """What the browser would post back unchanged: the page's form and inline formsets with their values."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            else:
                data[bound.html_name] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            add(form)
    return data


def syria():
    """SYR > Idlib (SY07, also Idleb, إدلب) > Idlib district (SY0700) > Saraqib (SY070003)."""
    country = RegionFactory(code="SYR", name="Syrian Arab Republic", iso_code="SYR")
    idlib = RegionFactory(code="SY07", name="Idlib", name_local="إدلب", alternate_names=["Idleb"], parent=country)
    district = RegionFactory(code="SY0700", name="Idlib", parent=idlib)
    saraqib = RegionFactory(code="SY070003", name="Saraqib", alternate_names=["Saraqab"], parent=district)
    return country, idlib, district, saraqib


def new_incident_data(client, *, region, report, best="40", **overrides) -> dict:
    data = form_data(client.get(ADD_URL))
    data.update(
        {
            "title": "Clashes between Ahrar al-Sham and HTS in Saraqib",
            "incident_type": IncidentTypeFactory().pk,
            "date_start": "2017-07-19",
            "date_end": "2017-07-20",
            "date_precision": "days",
            "region": region.pk,
            "place_name": "Saraqib Sharia court",
            "location_precision": "admin3",
            "tallies-0-report": report.pk,
            "tallies-0-outcome": "killed",
            "tallies-0-status": "unknown",
            "tallies-0-group": "all",
            "tallies-0-best": best,
            "tallies-0-qualifier": "approximately",
            "tallies-0-reported_phrase": "about 40 civilians and militants killed",
        }
    )
    data.update(overrides)
    return data


def test_data_entry_records_an_incident_with_a_figure_typing_only_best():
    client, user = logged_in(DATA_ENTRY, "amal")
    *_, saraqib = syria()
    report = ReportFactory(title="SOHR: about 40 killed in 24 hours")

    response = client.post(ADD_URL, new_incident_data(client, region=saraqib, report=report))

    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.status, incident.created_by, incident.updated_by) == ("draft", user, user)
    tally = incident.tallies.get()
    assert (tally.low, tally.best, tally.high, tally.qualifier) == (40, 40, 40, "approximately")
    estimate = Estimate.objects.get(incident=incident)
    assert (estimate.outcome, estimate.status, estimate.low, estimate.best, estimate.high) == (
        "killed",
        "unknown",
        40,
        40,
        40,
    )


def test_a_subgroup_figure_above_the_figure_for_all_is_an_error_at_its_best_and_nothing_is_written():
    client, _ = logged_in(DATA_ENTRY, "amal")
    *_, saraqib = syria()
    report = ReportFactory()
    data = new_incident_data(client, region=saraqib, report=report, best="10")
    data.update(
        {
            "tallies-TOTAL_FORMS": 2,
            "tallies-1-report": report.pk,
            "tallies-1-outcome": "killed",
            "tallies-1-status": "unknown",
            "tallies-1-group": "children",
            "tallies-1-best": "12",
            "tallies-1-qualifier": "exact",
        }
    )

    response = client.post(ADD_URL, data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[1].errors["best"] == [
        "The of which children figure (best 12, high 12) exceeds the figure for all from the same report "
        "(best 10, high 10)."
    ]
    assert Incident.objects.count() == 0
    assert CasualtyTally.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"date_start": "2017-07-20", "date_end": "2017-07-19"},
            "date_end",
            "The end (2017-07-19) is before the start (2017-07-20).",
        ),
        (
            {"date_end": "2099-01-01"},
            "date_end",
            "2099-01-01 is in the future; record only what has happened.",
        ),
        (
            {"location_precision": "exact"},
            "latitude",
            "An exact or nearby location needs its latitude and longitude.",
        ),
        ({"latitude": "95"}, "latitude", "Ensure this value is less than or equal to 90."),
        ({"latitude": "35.9"}, "longitude", "Give both latitude and longitude, or neither."),
        (
            {"location_precision": "admin1"},
            "location_precision",
            "The region is a sub-district (admin3); a location known only to that unit has precision "
            "'Only the sub-district (admin3)'.",
        ),
    ],
)
def test_an_invalid_incident_is_an_error_at_the_field_and_nothing_is_written(overrides, field, message):
    client, _ = logged_in(DATA_ENTRY, "amal")
    *_, saraqib = syria()
    data = new_incident_data(client, region=saraqib, report=ReportFactory(), **overrides)

    response = client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    ("figures", "field", "message"),
    [
        ({"tallies-0-low": "50"}, "low", "The low figure (50) is above the best (40)."),
        ({"tallies-0-high": "30"}, "high", "The high figure (30) is below the best (40)."),
        ({"tallies-0-best": "-1"}, "best", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_an_invalid_figure_is_an_error_at_its_field(figures, field, message):
    client, _ = logged_in(DATA_ENTRY, "amal")
    *_, saraqib = syria()
    data = new_incident_data(client, region=saraqib, report=ReportFactory(), **figures)

    response = client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[0].errors[field] == [message]
    assert CasualtyTally.objects.count() == 0


def test_the_same_figure_twice_from_one_report_is_an_error_not_a_crash():
    client, _ = logged_in(DATA_ENTRY, "amal")
    *_, saraqib = syria()
    report = ReportFactory()
    data = new_incident_data(client, region=saraqib, report=report)
    data.update(
        {
            "tallies-TOTAL_FORMS": 2,
            "tallies-1-report": report.pk,
            "tallies-1-outcome": "killed",
            "tallies-1-status": "unknown",
            "tallies-1-group": "all",
            "tallies-1-best": "41",
            "tallies-1-qualifier": "exact",
        }
    )

    response = client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[1].errors["group"] == [
        "This report already has a figure for this outcome, status and group here."
    ]


def test_the_second_of_two_concurrent_edits_is_refused_and_keeps_what_was_typed():
    first, author = logged_in(DATA_ENTRY, "amal")
    second, _ = logged_in(REVIEWER, "badr")
    incident = IncidentFactory(status="draft", created_by=author, title="Clashes in Idlib")
    url = change_url(incident)
    first_data, second_data = form_data(first.get(url)), form_data(second.get(url))

    first_data["title"] = "Clashes in Saraqib"
    assert first.post(url, first_data).status_code == 302
    second_data["title"] = "Clashes in Ebelin"
    second_data["description"] = "Fighting spread through the province."
    response = second.post(url, second_data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == [
        "This incident was changed by someone else while you edited it (you loaded version 1, it is now at "
        "version 2). Reload it, re-apply your changes and save again."
    ]
    assert (form["title"].value(), form["description"].value()) == (
        "Clashes in Ebelin",
        "Fighting spread through the province.",
    )
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Clashes in Saraqib", 2)


def test_a_save_after_reloading_goes_through_and_raises_the_version():
    client, author = logged_in(DATA_ENTRY, "amal")
    incident = IncidentFactory(status="draft", created_by=author)
    data = form_data(client.get(change_url(incident)))
    data["title"] = "Renamed"

    assert client.post(change_url(incident), data).status_code == 302

    incident.refresh_from_db()
    assert (incident.title, incident.version, incident.updated_by) == ("Renamed", 2, author)


def test_the_region_picker_finds_alternate_spellings_and_arabic_names_and_shows_the_parent_chain():
    client, _ = logged_in(DATA_ENTRY, "amal")
    syria()
    url = reverse("admin:casualties_region_autocomplete")
    params = {"app_label": "casualties", "model_name": "incident", "field_name": "region"}

    found = {
        term: [r["text"] for r in client.get(url, {**params, "term": term}).json()["results"]]
        for term in ("idlib", "Idleb", "إدلب", "ادلب", "saraqab", "Sarakib")
    }

    idlib = "Idlib / إدلب (SY07) — Syrian Arab Republic"
    district = "Idlib (SY0700) — Syrian Arab Republic > Idlib"
    assert found["idlib"] == found["Idleb"] == [idlib, district]  # e and i are one letter in transliterations
    assert found["إدلب"] == found["ادلب"] == [idlib]
    saraqib = "Saraqib (SY070003) — Syrian Arab Republic > Idlib > Idlib"
    assert found["saraqab"] == found["Sarakib"] == [saraqib]


def test_the_incident_page_shows_current_estimates_and_the_number_of_sources():
    client, _ = logged_in(REVIEWER, "badr")
    incident = IncidentFactory()
    TallyFactory(incident=incident, best=38, report__published_on=datetime.date(2017, 7, 20))
    TallyFactory(incident=incident, low=40, best=40, high=45, report__published_on=datetime.date(2017, 7, 21))

    content = client.get(change_url(incident)).content.decode()

    assert "Figures from 2 source(s) in 2 report(s)." in content
    assert "<tr><td>Killed</td><td>Civilian</td><td>All</td><td>38</td><td>40</td><td>45</td><td>2</td></tr>" in content


def test_incident_search_finds_titles_public_ids_places_and_regions_in_any_spelling():
    client, _ = logged_in(REVIEWER, "badr")
    *_, saraqib = syria()
    in_saraqib = IncidentFactory(region=saraqib, title="Court stormed", place_name="Sharia court")
    elsewhere = IncidentFactory(title="Shelling of Maarata", description="Headquarters targeted")
    url = reverse("admin:casualties_incident_changelist")

    def found(term):
        return sorted(i.pk for i in client.get(url, {"q": term}).context["cl"].result_list)

    assert found("idleb") == [in_saraqib.pk]
    assert found("إدلب") == [in_saraqib.pk]
    assert found("sharia") == [in_saraqib.pk]
    assert found("headquarters") == [elsewhere.pk]
    assert found("maarata") == [elsewhere.pk]
    assert found(str(elsewhere.public_id)) == [elsewhere.pk]


def test_incident_list_filters_by_country_governorate_source_and_status():
    client, _ = logged_in(REVIEWER, "badr")
    country, _, _, saraqib = syria()
    aleppo = RegionFactory(code="SY02", name="Aleppo", parent=country)
    other_country = RegionFactory(code="LBN", name="Lebanon")
    in_idlib = IncidentFactory(region=saraqib)
    in_aleppo = IncidentFactory(region=aleppo, status="draft")
    in_lebanon = IncidentFactory(region=other_country)
    sohr = SourceFactory(name="SOHR")
    TallyFactory(incident=in_aleppo, report__source=sohr)
    url = reverse("admin:casualties_incident_changelist")

    def found(**params):
        return sorted(i.pk for i in client.get(url, params).context["cl"].result_list)

    assert found(country="SYR") == sorted([in_idlib.pk, in_aleppo.pk])
    assert found(country="LBN") == [in_lebanon.pk]
    assert found(country="SYR", governorate="SY07") == [in_idlib.pk]
    assert found(source=str(sohr.pk)) == [in_aleppo.pk]
    assert found(status__exact="draft") == [in_aleppo.pk]


def test_the_country_filter_offers_the_countries_with_incidents_anywhere_below_them_in_one_query():
    client, _ = logged_in(REVIEWER, "badr")
    _, _, _, saraqib = syria()
    lebanon = RegionFactory(code="LBN", name="Lebanon")
    RegionFactory(code="JOR", name="Jordan")
    RegionFactory(code="TR01", name="Adana", parent=RegionFactory(code="TUR", name="Turkey"))
    IncidentFactory(region=saraqib)
    IncidentFactory(region=lebanon)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:casualties_incident_changelist"))

    countries = next(spec for spec in response.context["cl"].filter_specs if isinstance(spec, CountryFilter))
    assert countries.lookup_choices == [("LBN", "Lebanon"), ("SYR", "Syrian Arab Republic")]
    country_queries = [q["sql"] for q in queries if '"casualties_region"."level" = 0' in q["sql"]]
    assert len(country_queries) == 1
    assert "LIKE" not in country_queries[0]


@pytest.mark.parametrize("role", [REVIEWER, DATA_ENTRY])
def test_a_big_incident_list_takes_the_planners_estimate_instead_of_counting_every_row(monkeypatch, role):
    client, user = logged_in(role, "badr")
    IncidentFactory.create_batch(3)
    IncidentFactory(status="draft", created_by=user)
    monkeypatch.setattr(common, "EXACT_COUNT_BELOW", 0)
    url = reverse("admin:casualties_incident_changelist")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casualties_incident")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    incident_counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and '"casualties_incident"' in q["sql"]]
    assert incident_counts == []
    assert len(response.context["cl"].result_list) == 4


def test_a_small_incident_list_is_counted_exactly():
    client, _ = logged_in(REVIEWER, "badr")
    IncidentFactory.create_batch(3)

    response = client.get(reverse("admin:casualties_incident_changelist"))

    assert response.context["cl"].result_count == 3


def test_the_date_hierarchy_offers_every_year_of_the_range_and_the_months_of_a_year():
    client, _ = logged_in(REVIEWER, "badr")
    IncidentFactory(date_start=datetime.date(2015, 3, 2))
    IncidentFactory(date_start=datetime.date(2017, 7, 19))
    IncidentFactory(date_start=datetime.date(2017, 9, 1))
    url = reverse("admin:casualties_incident_changelist")

    years = client.get(url).content.decode()
    months = client.get(url, {"date_start__year": "2017"}).content.decode()

    assert sorted(set(re.findall(r"date_start__year=(\d+)", years))) == ["2015", "2016", "2017"]
    assert sorted(set(re.findall(r"date_start__month=(\d+)", months)), key=int) == ["7", "8", "9"]


def test_the_incident_list_runs_the_same_number_of_queries_for_five_rows_as_for_fifty():
    client, _ = logged_in(REVIEWER, "badr")
    url = reverse("admin:casualties_incident_changelist")
    IncidentFactory.create_batch(5)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    IncidentFactory.create_batch(45)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


def test_a_change_to_the_figures_alone_still_refuses_a_colleagues_concurrent_save():
    first, author = logged_in(DATA_ENTRY, "amal")
    second, _ = logged_in(REVIEWER, "badr")
    incident = IncidentFactory(status="draft", created_by=author)
    tally = TallyFactory(incident=incident, best=40)
    url = change_url(incident)
    first_data, second_data = form_data(first.get(url)), form_data(second.get(url))

    first_data.update({"tallies-0-low": "", "tallies-0-best": "42", "tallies-0-high": ""})
    assert first.post(url, first_data).status_code == 302
    second_data["title"] = "Renamed"
    response = second.post(url, second_data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["__all__"]
    # Version 2 since its figure was added; the first editor's figure change made it 3.
    assert errors[0].startswith("This incident was changed by someone else while you edited it (you loaded version 2")
    tally.refresh_from_db()
    incident.refresh_from_db()
    assert (tally.best, incident.title, incident.version) == (42, incident.title, 3)


def test_a_figure_changed_elsewhere_after_the_page_was_loaded_is_not_overwritten():
    client, author = logged_in(DATA_ENTRY, "amal")
    incident = IncidentFactory(status="draft", created_by=author)
    tally = TallyFactory(incident=incident, best=40)
    data = form_data(client.get(change_url(incident)))
    CasualtyTally.objects.filter(pk=tally.pk).update(low=41, best=41, high=41)
    data["tallies-0-reported_phrase"] = "about 40 killed"

    response = client.post(change_url(incident), data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.forms[0].non_field_errors() == [
        "This figure was changed by someone else after you read it (it now reads 41-41-41). Reload it and apply "
        "your changes again."
    ]
    tally.refresh_from_db()
    assert (tally.best, tally.reported_phrase) == (41, "")


def test_the_actor_picker_finds_an_actor_by_a_former_name():
    client, _ = logged_in(DATA_ENTRY, "amal")
    hts = ActorFactory(name="Hay'at Tahrir al-Sham", acronym="HTS")
    ActorName.objects.create(actor=hts, name="Jabhat al-Nusra")
    ActorFactory(name="Ahrar al-Sham")
    url = reverse("admin:autocomplete")
    params = {"app_label": "casualties", "model_name": "incidentactor", "field_name": "actor"}

    results = client.get(url, {**params, "term": "nusra"}).json()["results"]

    assert results == [{"id": str(hts.pk), "text": "Hay'at Tahrir al-Sham (HTS)"}]
