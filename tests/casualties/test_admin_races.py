"""A colleague's write landing between the admin form's checks and its save: the service refuses, the page says so."""

import datetime
import threading
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connections
from django.urls import reverse

from casualties.forms import period_total_errors
from casualties.models import CasualtyTally
from tests.casualties.test_admin_sources import period_total_data
from tests.factories import RegionFactory, ReportFactory, ReportingPeriodFactory, SourceFactory, TallyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def committed_elsewhere(create) -> None:
    """Run ``create`` on another connection and commit it, as a colleague's request would."""
    errors = []

    def run():
        try:
            create()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_an_overlapping_total_saved_by_a_colleague_after_the_form_checked_is_refused_with_a_message(admin_client):
    snhr = SourceFactory(name="SNHR")
    idlib = RegionFactory(code="SY07", name="Idlib")
    july = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31))
    week = ReportingPeriodFactory(date_start=datetime.date(2017, 7, 28), date_end=datetime.date(2017, 8, 3))
    mine, theirs = ReportFactory(source=snhr, title="Weekly toll"), ReportFactory(source=snhr, title="July toll")

    def check_then_colleague_saves(**kwargs):
        found = period_total_errors(**kwargs)
        committed_elsewhere(
            lambda: TallyFactory(incident=None, region=idlib, reporting_period=july, report=theirs, best=120)
        )
        return found

    url = reverse("admin:casualties_casualtytally_add")
    with mock.patch("casualties.forms.period_total_errors", side_effect=check_then_colleague_saves):
        response = admin_client.post(url, period_total_data(mine, idlib, week, best="30"))

    theirs_total = CasualtyTally.objects.get()
    assert (response.status_code, response["Location"]) == (302, url)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Nothing was saved: SNHR already has a total for Idlib (SY07) over 2017-07-01 to 2017-07-31, which overlaps "
        f"this period: 120 killed (civilian, all) from “July toll” (figure #{theirs_total.pk})."
    ]
    assert theirs_total.report == theirs
