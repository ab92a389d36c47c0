"""The figure services: the one write path whose refusals the admin and the API both show, word for word."""

import datetime

import pytest
from django.urls import reverse

from casualties.models import CasualtyTally, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from casualties.services import (
    incident_create,
    incident_figures_save,
    tally_create,
    tally_delete,
    tally_update,
)
from core.services import AlreadyExists, Invalid, NotAllowed, StaleRecord
from tests.casualties.test_admin import ADD_URL, change_url, form_data, logged_in, new_incident_data, syria
from tests.casualties.test_admin_sources import period_total_data
from tests.casualties.test_api_incidents import token_client
from tests.factories import (
    IncidentFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

pytestmark = pytest.mark.django_db


def refusal(call) -> dict:
    with pytest.raises(Invalid) as refused:
        call()
    return refused.value.message_dict


def test_a_subgroup_above_all_reads_the_same_from_the_admin_the_api_and_the_service():
    client, user = logged_in(DATA_ENTRY, "amal")
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    TallyFactory(incident=incident, report=report, status="unknown", best=10)
    message = (
        "The of which children figure (best 12, high 12) exceeds the figure for all from the same report "
        "(best 10, high 10)."
    )

    service = refusal(
        lambda: tally_create(
            user=user, report=report, incident=incident, outcome="killed", status="unknown", group="children", best=12
        )
    )
    api = token_client(user).post(
        "/api/v1/tallies/",
        {"report": report.pk, "incident": str(incident.public_id), "outcome": "killed", "status": "unknown",
         "group": "children", "best": 12},
        format="json",
    )  # fmt: skip
    data = form_data(client.get(change_url(incident)))
    data.update(
        {"tallies-1-report": report.pk, "tallies-1-outcome": "killed", "tallies-1-status": "unknown",
         "tallies-1-group": "children", "tallies-1-best": "12", "tallies-1-qualifier": "exact"}
    )  # fmt: skip
    admin = client.post(change_url(incident), data)

    assert service == {"best": [message]}
    assert (api.status_code, api.json()) == (400, {"best": [message]})
    assert admin.status_code == 200
    assert admin.context["inline_admin_formsets"][0].formset.forms[1].errors["best"] == [message]
    assert CasualtyTally.objects.count() == 1


def test_an_overlapping_period_total_reads_the_same_from_the_admin_the_api_and_the_service():
    client, user = logged_in(DATA_ENTRY, "amal")
    snhr = SourceFactory(name="Syrian Network for Human Rights", acronym="SNHR")
    idlib = RegionFactory(code="SY07", name="Idlib")
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    week = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 28), date_end=datetime.date(2017, 8, 3))
    existing = TallyFactory(
        incident=None, region=idlib, reporting_period=july, best=120,
        report=ReportFactory(source=snhr, title="Civilian death toll in July 2017"),
    )  # fmt: skip
    weekly = ReportFactory(source=snhr, title="Weekly toll")
    message = (
        "Syrian Network for Human Rights (SNHR) already has a total for Idlib (SY07) over 2017-07-01 to 2017-07-31, "
        "which overlaps this period: 120 killed (civilian, all) from “Civilian death toll in July 2017” "
        f"(figure #{existing.pk})."
    )

    service = refusal(
        lambda: tally_create(
            user=user, report=weekly, region=idlib, reporting_period=week, outcome="killed", status="civilian", best=30
        )
    )
    api = token_client(user).post(
        "/api/v1/tallies/",
        {"report": weekly.pk, "region": "SY07", "reporting_period": week.pk, "outcome": "killed",
         "status": "civilian", "best": 30},
        format="json",
    )  # fmt: skip
    admin = client.post(reverse("admin:casualties_casualtytally_add"), period_total_data(weekly, idlib, week, "30"))

    assert service == {"reporting_period": [message]}
    assert (api.status_code, api.json()) == (400, {"reporting_period": [message]})
    assert admin.context["adminform"].form.errors["reporting_period"] == [message]
    assert CasualtyTally.objects.count() == 1


def test_an_incident_ending_before_it_starts_reads_the_same_from_the_admin_the_api_and_the_service():
    client, user = logged_in(DATA_ENTRY, "amal")
    *_, saraqib = syria()
    message = "The end (2017-07-19) is before the start (2017-07-20)."
    values = {
        "title": "Clashes in Saraqib", "date_start": datetime.date(2017, 7, 20), "date_end": datetime.date(2017, 7, 19),
        "region": saraqib, "location_precision": "admin3", "incident_type": IncidentTypeFactory(),
    }  # fmt: skip

    service = refusal(lambda: incident_create(user=user, values=values))
    api = token_client(user).post(
        "/api/v1/incidents/",
        {"title": "Clashes in Saraqib", "date_start": "2017-07-20", "date_end": "2017-07-19", "region": "SY070003",
         "location_precision": "admin3", "incident_type": "armed-clash"},
        format="json",
    )  # fmt: skip
    admin = client.post(
        ADD_URL,
        new_incident_data(
            client, region=saraqib, report=ReportFactory(), date_start="2017-07-20", date_end="2017-07-19"
        ),
    )

    assert service == {"date_end": [message]}
    assert (api.status_code, api.json()) == (400, {"date_end": [message]})
    assert admin.context["adminform"].form.errors["date_end"] == [message]
    assert Incident.objects.count() == 0


def test_a_subgroup_and_its_figure_for_all_may_be_raised_together():
    _, user = logged_in(DATA_ENTRY, "amal")
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    total = TallyFactory(incident=incident, report=report, best=10)
    children = TallyFactory(incident=incident, report=report, group="children", best=8)
    children.low = children.best = children.high = 15  # saved first: above the figure for all until it follows
    total.low = total.best = total.high = 20

    incident_figures_save(user=user, incident=incident, saves=[children, total])

    assert sorted(CasualtyTally.objects.values_list("group", "best")) == [("all", 20), ("children", 15)]


def test_a_data_entry_user_may_not_change_the_figures_of_a_verified_incident():
    _, user = logged_in(DATA_ENTRY, "amal")
    incident = IncidentFactory(status="verified", created_by=user)
    tally = TallyFactory(incident=incident, best=10)

    with pytest.raises(NotAllowed, match=f"You may not change the figures of incident {incident.public_id}."):
        tally_update(user=user, tally=tally, read_at=tally.updated_at, changes={"best": 11, "high": 11})
    with pytest.raises(NotAllowed):
        tally_delete(user=user, tally=tally)
    _, reviewer = logged_in(REVIEWER, "badr")
    tally_update(user=reviewer, tally=tally, read_at=tally.updated_at, changes={"best": 11, "high": 11})

    tally.refresh_from_db()
    assert (tally.best, tally.high) == (11, 11)


def test_a_figure_changed_since_it_was_read_is_refused_as_stale_and_kept():
    _, user = logged_in(DATA_ENTRY, "amal")
    tally = TallyFactory(incident=IncidentFactory(status="draft", created_by=user), best=10)
    read_at = tally.updated_at
    tally_update(user=user, tally=tally, read_at=read_at, changes={"best": 11, "high": 11})

    with pytest.raises(
        StaleRecord, match=r"^This figure was changed by someone else after you read it \(it now reads 10-11-11\)"
    ):
        tally_update(user=user, tally=tally, read_at=read_at, changes={"best": 12, "high": 12})

    tally.refresh_from_db()
    assert tally.best == 11


def test_a_repeated_create_returns_the_figure_and_other_numbers_under_its_key_are_refused():
    _, user = logged_in(DATA_ENTRY, "amal")
    incident, report = IncidentFactory(status="draft", created_by=user), ReportFactory()
    figure = {"user": user, "report": report, "incident": incident, "outcome": "killed", "status": "civilian"}

    first, first_new = tally_create(**figure, best=40)
    again, again_new = tally_create(**figure, best=40, low=40, high=40)
    with pytest.raises(AlreadyExists, match=r"different values \(best, high, low\)"):
        tally_create(**figure, best=41)

    assert (first_new, again_new, again.pk) == (True, False, first.pk)
    assert CasualtyTally.objects.count() == 1
