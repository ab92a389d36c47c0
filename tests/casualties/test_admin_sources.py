"""Sources, reports, reporting periods and period totals in the admin."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from casualties.models import CasualtyTally, ReportingPeriod
from casualties.roles import DATA_ENTRY
from sources.models import Report
from tests.factories import (
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    user = UserFactory(username="amal", is_staff=True)
    user.groups.add(Group.objects.get(name=DATA_ENTRY))
    client = Client()
    client.force_login(user)
    return client


def period_total_data(report, region, period, best="120", **overrides) -> dict:
    data = {
        "report": report.pk,
        "region": region.pk,
        "reporting_period": period.pk,
        "outcome": "killed",
        "status": "civilian",
        "group": "all",
        "low": "",
        "best": best,
        "high": "",
        "qualifier": "exact",
        "reported_phrase": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_a_period_total_is_entered_with_only_its_best_figure(client):
    report = ReportFactory()
    idlib = RegionFactory(code="SY07", name="Idlib")
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))

    response = client.post(reverse("admin:casualties_casualtytally_add"), period_total_data(report, idlib, july))

    assert response.status_code == 302
    total = CasualtyTally.objects.get()
    assert (total.region, total.reporting_period, total.incident, total.source) == (idlib, july, None, report.source)
    assert (total.low, total.best, total.high) == (120, 120, 120)


def test_an_overlapping_period_total_of_the_same_source_is_refused_naming_the_clashing_one(client):
    snhr = SourceFactory(name="Syrian Network for Human Rights", acronym="SNHR")
    idlib = RegionFactory(code="SY07", name="Idlib")
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    week = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 28), date_end=datetime.date(2017, 8, 3))
    existing = TallyFactory(
        incident=None,
        region=idlib,
        reporting_period=july,
        best=120,
        report=ReportFactory(source=snhr, title="Civilian death toll in July 2017"),
    )
    later_report = ReportFactory(source=snhr, title="Weekly toll")

    response = client.post(
        reverse("admin:casualties_casualtytally_add"), period_total_data(later_report, idlib, week, best="30")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reporting_period"] == [
        "Syrian Network for Human Rights (SNHR) already has a total for Idlib (SY07) over 2017-07-01 to 2017-07-31, "
        "which overlaps this period: 120 killed (civilian, all) from “Civilian death toll in July 2017” "
        f"(figure #{existing.pk})."
    ]
    assert CasualtyTally.objects.count() == 1


def test_period_totals_of_another_source_or_group_may_overlap(client):
    idlib = RegionFactory(code="SY07", name="Idlib")
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    TallyFactory(incident=None, region=idlib, reporting_period=july, best=120)
    url = reverse("admin:casualties_casualtytally_add")

    other_source = client.post(url, period_total_data(ReportFactory(), idlib, july))
    children = client.post(url, period_total_data(ReportFactory(), idlib, july, group="children", best="20"))

    assert (other_source.status_code, children.status_code) == (302, 302)
    assert CasualtyTally.objects.count() == 3


def test_the_period_totals_list_leaves_out_figures_about_incidents(client):
    total = TallyFactory(incident=None, region=RegionFactory(), reporting_period=ReportingPeriodFactory())
    TallyFactory()

    response = client.get(reverse("admin:casualties_casualtytally_changelist"))

    assert [t.pk for t in response.context["cl"].result_list] == [total.pk]
    assert response.context["title"] == "Period totals"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"date_start": "2017-07-31", "date_end": "2017-07-01"},
            "date_end",
            "The end (2017-07-01) is before the start (2017-07-31).",
        ),
        (
            {"date_start": "2017-07-01", "date_end": "2099-07-01"},
            "date_end",
            "2099-07-01 is in the future; record only what has happened.",
        ),
    ],
)
def test_an_invalid_reporting_period_is_an_error_at_its_date(client, data, field, message):
    response = client.post(reverse("admin:casualties_reportingperiod_add"), {**data, "label": ""})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert ReportingPeriod.objects.count() == 0


def test_a_report_is_created_in_the_pop_up_of_the_incident_page_and_handed_back_to_it(client):
    sohr = SourceFactory(name="SOHR")

    response = client.post(
        reverse("admin:sources_report_add") + "?_to_field=id&_popup=1",
        {
            "source": sohr.pk,
            "title": "About 40 killed in 24 hours",
            "url": "https://www.syriahr.com/en/?p=70000",
            "published_on": "2017-07-20",
            "_popup": "1",
            "_to_field": "id",
        },
    )

    report = Report.objects.get()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/popup_response.html"
    assert f"&quot;value&quot;: &quot;{report.pk}&quot;" in response.content.decode()


def test_a_report_with_a_url_its_source_already_has_is_an_error_naming_that_report(client):
    existing = ReportFactory(title="About 40 killed", url="https://www.syriahr.com/en/?p=70000")

    response = client.post(
        reverse("admin:sources_report_add"),
        {"source": existing.source.pk, "title": "Copy", "url": existing.url, "published_on": "2017-07-20"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        f"{existing.source} already has a report with this URL: “About 40 killed” (#{existing.pk})."
    ]


def test_a_report_published_in_the_future_is_an_error_at_its_date(client):
    response = client.post(
        reverse("admin:sources_report_add"),
        {"source": SourceFactory().pk, "title": "Tomorrow's news", "published_on": "2099-01-01"},
    )

    assert response.context["adminform"].form.errors["published_on"] == [
        "2099-01-01 is in the future; record only what has happened."
    ]


def test_reports_are_found_by_title_and_by_url(client):
    by_title = ReportFactory(title="Clashes in Idlib", url="https://example.org/a")
    by_url = ReportFactory(title="Bulletin", url="https://www.syriahr.com/en/?p=70000")
    url = reverse("admin:sources_report_changelist")

    def found(term):
        return [r.pk for r in client.get(url, {"q": term}).context["cl"].result_list]

    assert found("idlib") == [by_title.pk]
    assert found("syriahr.com") == [by_url.pk]


def test_the_report_picker_on_the_incident_page_searches_titles(client):
    report = ReportFactory(title="SOHR: about 40 killed in 24 hours")
    ReportFactory(title="Unrelated")
    url = reverse("admin:autocomplete")

    results = client.get(
        url, {"term": "40 killed", "app_label": "casualties", "model_name": "casualtytally", "field_name": "report"}
    ).json()["results"]

    assert results == [{"id": str(report.pk), "text": str(report)}]


def test_a_source_page_lists_its_reports_newest_first(client):
    sohr = SourceFactory(name="SOHR")
    older = ReportFactory(source=sohr, title="First clashes in Ebelin", published_on=datetime.date(2017, 7, 18))
    newer = ReportFactory(source=sohr, title="About 40 killed", published_on=datetime.date(2017, 7, 20))
    ReportFactory(title="Another source's report")

    content = client.get(reverse("admin:sources_source_change", args=[sohr.pk])).content.decode()

    assert content.index("About 40 killed") < content.index("First clashes in Ebelin")
    assert reverse("admin:sources_report_change", args=[older.pk]) in content
    assert reverse("admin:sources_report_change", args=[newer.pk]) in content
    assert "Another source&#x27;s report" not in content


@pytest.mark.parametrize(
    "term",
    ["SOHR", "Syrian Observatory", "2017-07-20", "20/07/2017", "SOHR 2017-07-20", "sohr 2017-07 killed", "2017"],
)
def test_the_report_picker_finds_a_report_by_source_and_date_as_its_label_reads(client, term):
    sohr = SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR")
    report = ReportFactory(source=sohr, title="About 40 killed in Idlib", published_on=datetime.date(2017, 7, 20))
    ReportFactory(source=sohr, title="Other day", published_on=datetime.date(2016, 7, 21))
    ReportFactory(source=SourceFactory(name="Violations Documentation Center", acronym="VDC"), title="Same day",
                  published_on=datetime.date(2017, 7, 20))  # fmt: skip
    found = client.get(
        reverse("admin:autocomplete"),
        {"term": term, "app_label": "casualties", "model_name": "casualtytally", "field_name": "report"},
    ).json()["results"]
    texts = [result["text"] for result in found]
    expected = {
        "SOHR": 2, "Syrian Observatory": 2, "2017-07-20": 2, "20/07/2017": 2, "SOHR 2017-07-20": 1,
        "sohr 2017-07 killed": 1, "2017": 2,
    }[term]  # fmt: skip
    assert len(texts) == expected
    assert str(report) in texts
    assert str(report).startswith("SOHR, 2017-07-20: ")


@pytest.mark.parametrize("term", ["2017-13", "31/02/2017", "2017-02-30"])
def test_a_date_like_word_that_is_no_date_is_searched_as_text(client, term):
    ReportFactory(title="About 40 killed", published_on=datetime.date(2017, 2, 1))
    response = client.get(reverse("admin:sources_report_changelist"), {"q": term})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


SOHR_TITLE = "About 40 killed in 24 hours of clashes between Ahrar al-Sham and HTS in Idlib"


@pytest.mark.parametrize(
    ("title", "published_on", "same_source", "warned"),
    [
        ("About 40 killed in 24 hours of clashes between Ahrar al-Sham and HTS in Idleb", "2017-07-20", True, True),
        ("Around 40 killed in 24 hours of clashes between Ahrar al Sham and HTS, Idlib", "2017-07-20", True, True),
        ("About 40 killed in 24 hours of clashes between Ahrar al-Sham and HTS in Idleb", "2017-07-21", True, False),
        ("About 40 killed in 24 hours of clashes between Ahrar al-Sham and HTS in Idleb", "2017-07-20", False, False),
        ("Airstrikes on Ariha kill 12", "2017-07-20", True, False),
    ],
)
def test_a_second_report_of_one_source_and_day_with_a_similar_title_is_held_for_a_look(
    client, title, published_on, same_source, warned
):
    sohr = SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR")
    existing = ReportFactory(source=sohr, title=SOHR_TITLE, published_on=datetime.date(2017, 7, 20))
    source = sohr if same_source else SourceFactory(name="Violations Documentation Center", acronym="VDC")
    data = {"source": source.pk, "title": title, "published_on": published_on}

    response = client.post(reverse("admin:sources_report_add"), data)

    if not warned:
        assert response.status_code == 302
        assert Report.objects.count() == 2
        return
    assert response.status_code == 200
    assert Report.objects.count() == 1
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    html = response.content.decode()
    link = reverse("admin:sources_report_change", args=[existing.pk])
    assert f'<a href="{link}" target="_blank">SOHR, 2017-07-20: {SOHR_TITLE}</a>' in html
    assert "Not the same report" in html

    confirmed = client.post(reverse("admin:sources_report_add"), {**data, "not_a_duplicate": "on"})
    assert confirmed.status_code == 302
    assert sorted(Report.objects.values_list("title", flat=True)) == sorted([SOHR_TITLE, title])


def test_saving_a_report_again_does_not_warn_about_itself(client):
    amal = get_user_model().objects.get(username="amal")  # the client's user, who entered the report
    report = ReportFactory(title=SOHR_TITLE, published_on=datetime.date(2017, 7, 20), created_by=amal)
    url = reverse("admin:sources_report_change", args=[report.pk])
    form = client.get(url).context["adminform"].form
    data = {
        "source": report.source.pk, "title": SOHR_TITLE + ".", "published_on": "2017-07-20",
        "loaded_at": form["loaded_at"].value(),
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == SOHR_TITLE + "."
