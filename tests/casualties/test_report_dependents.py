"""Reports and period totals that public figures depend on: who may change them, and what a change raises.

Data entry change a report only while every figure citing it is in a draft of theirs (or, while none cites it, a
report they entered); an existing period total and a reporting period in use are a reviewer's to change. A change a
reviewer makes to a report raises the version of every incident whose figures cite it, and their audit says why.
"""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pghistory.models import MiddlewareEvents

from casualties.choices import ReviewStatus
from casualties.models import CasualtyTally, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from sources.models import Report
from tests.casualties.test_api_incidents import token_client, user_with_role
from tests.factories import (
    IncidentFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def amal():
    return user_with_role(DATA_ENTRY, username="amal")


@pytest.fixture
def rami():
    return user_with_role(REVIEWER, username="rami")


@pytest.fixture
def verified_figures():
    """SOHR's report of 20 July, cited by the figures of one verified incident; ``incident.version`` as it stands."""
    sohr, snhr = SourceFactory(acronym="SOHR"), SourceFactory(acronym="SNHR")
    report = ReportFactory(
        source=sohr, url="https://example.org/sohr/2017-07-20", published_on=datetime.date(2017, 7, 20)
    )
    incident = IncidentFactory(title="Clashes in Saraqib", status=ReviewStatus.VERIFIED)
    TallyFactory(report=report, incident=incident, best=40)
    TallyFactory(report=report, incident=incident, outcome="injured", best=12)
    incident.refresh_from_db()
    return report, incident, snhr


def report_patch(client, report, **changes):
    read = client.get(f"/api/v1/reports/{report.pk}/").json()
    return client.patch(f"/api/v1/reports/{report.pk}/", {**changes, "updated_at": read["updated_at"]}, format="json")


def moving_changes(snhr) -> dict:
    return {"source": snhr.pk, "url": "https://example.org/elsewhere", "published_on": "2017-07-01"}


def test_data_entry_may_not_change_a_report_that_a_verified_incident_cites(amal, verified_figures):
    report, incident, snhr = verified_figures
    version = incident.version

    response = report_patch(token_client(amal), report, **moving_changes(snhr))

    assert response.status_code == 403
    assert response.json() == {
        "detail": f"Figures of incidents you may not edit cite this report: {incident.public_id} (verified). "
        "Changing the report would change their figures; a reviewer must make this change. Nothing was changed."
    }
    report.refresh_from_db()
    incident.refresh_from_db()
    assert (report.source.acronym, report.url, report.published_on) == (
        "SOHR",
        "https://example.org/sohr/2017-07-20",
        datetime.date(2017, 7, 20),
    )
    assert set(CasualtyTally.objects.values_list("source__acronym", flat=True)) == {"SOHR"}
    assert incident.version == version


def test_a_reviewer_changes_it_and_the_incident_version_rises_once_with_the_reason_in_its_audit(rami, verified_figures):
    report, incident, snhr = verified_figures
    version = incident.version

    response = report_patch(token_client(rami), report, **moving_changes(snhr))

    assert response.status_code == 200
    report.refresh_from_db()
    incident.refresh_from_db()
    assert (report.source, report.url, report.published_on) == (
        snhr,
        "https://example.org/elsewhere",
        datetime.date(2017, 7, 1),
    )
    assert set(CasualtyTally.objects.values_list("source__acronym", flat=True)) == {"SNHR"}
    assert (incident.version, incident.status, incident.updated_by) == (version + 1, ReviewStatus.VERIFIED, rami)
    event = MiddlewareEvents.objects.tracks(incident).filter(pgh_label="update").order_by("-pgh_id").first()
    assert event.pgh_diff["version"] == [version, version + 1]
    assert event.pgh_context["why"] == f"Report #{report.pk} changed (published_on, source, url)"
    assert event.pgh_context["user"] == rami.pk


def test_data_entry_change_a_report_only_their_own_drafts_cite_and_the_drafts_version_rises(amal):
    report = ReportFactory(title="Entered by a colleague")
    draft = IncidentFactory(status=ReviewStatus.DRAFT, created_by=amal)
    TallyFactory(report=report, incident=draft)
    version = Incident.objects.get(pk=draft.pk).version

    response = report_patch(token_client(amal), report, title="Corrected title")

    assert response.status_code == 200
    report.refresh_from_db()
    draft.refresh_from_db()
    assert (report.title, draft.version) == ("Corrected title", version + 1)


@pytest.mark.parametrize("status", [ReviewStatus.SUBMITTED, ReviewStatus.REJECTED])
def test_data_entry_may_not_change_a_report_their_incident_in_review_cites(amal, status):
    report = ReportFactory(created_by=amal, title="Mine")
    TallyFactory(report=report, incident=IncidentFactory(status=status, created_by=amal))

    response = report_patch(token_client(amal), report, title="Changed")

    assert response.status_code == 403
    assert "a reviewer must make this change" in response.json()["detail"]
    assert Report.objects.get(pk=report.pk).title == "Mine"


def test_data_entry_may_not_change_a_report_a_colleagues_draft_cites(amal):
    report = ReportFactory(created_by=amal, title="Mine")
    TallyFactory(report=report, incident=IncidentFactory(status=ReviewStatus.DRAFT, created_by=amal))
    colleague = user_with_role(DATA_ENTRY, username="huda")
    theirs = IncidentFactory(status=ReviewStatus.DRAFT, created_by=colleague)
    TallyFactory(report=report, incident=theirs)

    response = report_patch(token_client(amal), report, title="Changed")

    assert response.status_code == 403
    assert f"{theirs.public_id} (draft)" in response.json()["detail"]
    assert Report.objects.get(pk=report.pk).title == "Mine"


def test_a_report_no_figure_cites_is_changed_by_whoever_entered_it(amal):
    colleague = user_with_role(DATA_ENTRY, username="huda")
    mine, theirs = ReportFactory(created_by=amal, title="Mine"), ReportFactory(created_by=colleague, title="Theirs")
    client = token_client(amal)

    assert report_patch(client, mine, title="Mine, corrected").status_code == 200
    refused = report_patch(client, theirs, title="Theirs, changed")

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Only the person who entered this report, or a reviewer, may change it while no figure cites it. "
        "Nothing was changed."
    )
    assert list(Report.objects.order_by("pk").values_list("title", flat=True)) == ["Mine, corrected", "Theirs"]


def test_a_report_created_through_the_api_is_its_creators_to_correct(amal):
    client = token_client(amal)
    created = client.post(
        "/api/v1/reports/",
        {"source": SourceFactory().pk, "title": "About 40 killed", "published_on": "2017-07-20"},
        format="json",
    )
    report = Report.objects.get(pk=created.json()["id"])

    assert report.created_by == amal
    assert report_patch(client, report, title="About 40 killed in Idlib").status_code == 200


def period_total(report=None, best=120):
    return TallyFactory(
        report=report or ReportFactory(),
        incident=None,
        region=RegionFactory(code="SY07", name="Idlib"),
        reporting_period=ReportingPeriodFactory(),
        best=best,
        low=best,
        high=best,
    )


def test_data_entry_may_not_change_a_report_a_period_total_cites(amal):
    report = ReportFactory(created_by=amal, title="Mine")
    period_total(report)

    response = report_patch(token_client(amal), report, title="Changed")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("1 period total(s) cite this report and are public figures")
    assert Report.objects.get(pk=report.pk).title == "Mine"


def tally_patch(client, tally, **changes):
    read = client.get(f"/api/v1/tallies/{tally.pk}/").json()
    return client.patch(f"/api/v1/tallies/{tally.pk}/", {**changes, "updated_at": read["updated_at"]}, format="json")


def test_data_entry_may_not_change_a_period_total_and_a_reviewer_may(amal, rami):
    total = period_total()
    amal_client = token_client(amal)

    refused = tally_patch(amal_client, total, best=999, low=999, high=999)

    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "A period total is a public figure from the moment it is entered: a reviewer corrects or deletes it."
    }
    assert CasualtyTally.objects.get(pk=total.pk).best == 120
    assert tally_patch(token_client(rami), total, best=125, low=125, high=125).status_code == 200
    assert CasualtyTally.objects.get(pk=total.pk).best == 125


def test_data_entry_may_not_turn_a_period_total_into_a_figure_of_their_draft(amal):
    total = period_total()
    draft = IncidentFactory(status=ReviewStatus.DRAFT, created_by=amal)

    response = tally_patch(token_client(amal), total, incident=str(draft.public_id), region=None, reporting_period=None)

    assert response.status_code == 403
    total.refresh_from_db()
    assert (total.incident_id, total.region.code) == (None, "SY07")


def test_data_entry_still_enter_new_period_totals(amal):
    body = {
        "report": ReportFactory().pk, "region": RegionFactory(code="SY07").code,
        "reporting_period": ReportingPeriodFactory().pk, "outcome": "killed", "status": "civilian", "best": 40,
    }  # fmt: skip
    assert token_client(amal).post("/api/v1/tallies/", body, format="json").status_code == 201


def test_the_database_raises_the_versions_of_citing_incidents_on_any_report_change(verified_figures):
    """A path that skips the services (raw SQL) still raises the version, once per statement."""
    report, incident, _ = verified_figures
    other = IncidentFactory()
    TallyFactory(report=ReportFactory(), incident=other)
    other.refresh_from_db()

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sources_report SET title = 'Retitled', url = 'https://x.org/1' WHERE id = %s", [report.pk]
        )
        cursor.execute("UPDATE sources_report SET title = title WHERE id = %s", [report.pk])  # no change: no rise

    assert Incident.objects.get(pk=incident.pk).version == incident.version + 1
    assert Incident.objects.get(pk=other.pk).version == other.version


# The admin asks the same rules.


def staff_client(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def report_form(report, **changes) -> dict:
    data = {
        "source": report.source_id, "title": report.title, "url": report.url, "archive_url": report.archive_url,
        "published_on": report.published_on.isoformat(), "language": report.language,
        "external_id": report.external_id, "credibility": "", "summary": report.summary,
        "loaded_at": report.updated_at.isoformat(),
    }  # fmt: skip
    return {**data, **changes}


def test_the_admin_shows_data_entry_a_cited_report_read_only_and_refuses_their_post(amal, verified_figures):
    report, incident, snhr = verified_figures
    client = staff_client(amal)
    url = reverse("admin:sources_report_change", args=[report.pk])

    page = client.get(url)
    posted = client.post(url, report_form(report, source=snhr.pk, url="https://example.org/elsewhere"))

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert f"Figures of incidents you may not edit cite this report: {incident.public_id} (verified)." in (
        page.content.decode()
    )
    assert posted.status_code == 403
    report.refresh_from_db()
    assert (report.source.acronym, report.url) == ("SOHR", "https://example.org/sohr/2017-07-20")
    assert Incident.objects.get(pk=incident.pk).version == incident.version


def test_a_reviewer_changes_a_cited_report_in_the_admin_and_the_history_says_why(rami, verified_figures):
    report, incident, snhr = verified_figures
    client = staff_client(rami)

    posted = client.post(reverse("admin:sources_report_change", args=[report.pk]), report_form(report, source=snhr.pk))

    assert posted.status_code == 302
    assert (Incident.objects.get(pk=incident.pk).version, Report.objects.get(pk=report.pk).source) == (
        incident.version + 1,
        snhr,
    )
    history = client.get(reverse("admin:casualties_incident_history", args=[incident.pk]))
    assert f"Report #{report.pk} changed (source)" in history.content.decode()


def period_total_form(total, **changes) -> dict:
    data = {
        "report": total.report_id, "region": total.region_id, "reporting_period": total.reporting_period_id,
        "outcome": total.outcome, "status": total.status, "group": total.group, "low": total.low, "best": total.best,
        "high": total.high, "qualifier": total.qualifier, "reported_phrase": "", "notes": "",
        "loaded_at": total.updated_at.isoformat(),
    }  # fmt: skip
    return {**data, **changes}


def test_the_admin_refuses_data_entry_a_change_to_a_period_total_and_lets_a_reviewer(amal, rami):
    total = period_total()
    url = reverse("admin:casualties_casualtytally_change", args=[total.pk])

    refused = staff_client(amal).post(url, period_total_form(total, best=999, low=999, high=999))
    deleted = staff_client(amal).post(
        reverse("admin:casualties_casualtytally_delete", args=[total.pk]), {"post": "yes"}
    )

    assert (refused.status_code, deleted.status_code) == (403, 403)
    assert CasualtyTally.objects.get(pk=total.pk).best == 120
    accepted = staff_client(rami).post(url, period_total_form(total, best=125, low=125, high=125))
    assert accepted.status_code == 302
    assert CasualtyTally.objects.get(pk=total.pk).best == 125


def test_a_reporting_period_in_use_is_changed_by_a_reviewer_only(amal, rami):
    total = period_total()
    period, unused = (
        total.reporting_period,
        ReportingPeriodFactory(date_start=datetime.date(2017, 8, 1), date_end=datetime.date(2017, 8, 3)),
    )
    moved = {"date_start": "2017-07-01", "date_end": "2017-07-31", "label": "July"}

    refused = staff_client(amal).post(reverse("admin:casualties_reportingperiod_change", args=[period.pk]), moved)
    unused_ok = staff_client(amal).post(
        reverse("admin:casualties_reportingperiod_change", args=[unused.pk]),
        {"date_start": "2017-08-01", "date_end": "2017-08-02", "label": "typo fixed"},
    )

    assert (refused.status_code, unused_ok.status_code) == (403, 302)
    period.refresh_from_db()
    assert period.date_start == datetime.date(2017, 7, 19)
    accepted = staff_client(rami).post(reverse("admin:casualties_reportingperiod_change", args=[period.pk]), moved)
    assert accepted.status_code == 302
    total.refresh_from_db()
    assert (total.period.lower, total.period.upper) == (datetime.date(2017, 7, 1), datetime.date(2017, 8, 1))
