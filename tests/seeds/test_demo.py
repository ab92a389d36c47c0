import datetime

import pytest
from django.db.models import Sum

from casualties.models import CasualtyTally, Estimate, Incident, Region
from seeds.demo import DEMO_FILE
from seeds.files import read_yaml
from sources.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_db")]

DEMO_IDS = [entry["public_id"] for entry in read_yaml(DEMO_FILE)["incidents"]]
JULY_2017 = (datetime.date(2017, 7, 1), datetime.date(2017, 7, 31))


def demo_incidents():
    return Incident.objects.filter(public_id__in=DEMO_IDS)


def test_the_demo_has_six_verified_clashes_between_ahrar_al_sham_and_hts():
    incidents = demo_incidents()
    assert incidents.count() == incidents.counted().count() == 6
    assert set(incidents.values_list("incident_type__code", flat=True)) == {"armed-clash"}
    for incident in incidents:
        roles = set(incident.actor_roles.values_list("role", "actor__name"))
        assert roles == {("side_a", "Ahrar al-Sham"), ("side_b", "Hay'at Tahrir al-Sham")}


def test_demo_incidents_invent_no_coordinates_and_sit_at_the_unit_that_is_certain():
    places = {i.place_name: (i.region.code, i.location_precision) for i in demo_incidents().select_related("region")}
    assert places == {
        "Ebelin": ("SY07", "admin1"),
        "Saraqib": ("SY070003", "admin3"),
        "Hazarin": ("SY07", "admin1"),
        "Marian": ("SY07", "admin1"),
        "Hbeit": ("SY07", "admin1"),
        "Maarata (Zaweya Mountains)": ("SY07", "admin1"),
    }
    assert not demo_incidents().filter(latitude__isnull=False).exists()
    assert not demo_incidents().filter(longitude__isnull=False).exists()


def test_demo_dates_are_a_range_up_to_the_report_not_invented_days():
    dates = set(demo_incidents().values_list("date_start", "date_end", "date_precision"))
    assert dates == {(datetime.date(2017, 7, 14), datetime.date(2017, 7, 20), "week")}


def test_demo_incidents_carry_no_figures_of_their_own():
    assert not CasualtyTally.objects.filter(incident__in=demo_incidents()).exists()
    assert not Estimate.objects.filter(incident__in=demo_incidents()).exists()


def test_the_sohr_period_total_for_idleb_in_july_2017_is_about_40_killed():
    idleb = Region.objects.get(code="SY07")
    totals = CasualtyTally.objects.filter(
        region__path__startswith=idleb.path,
        outcome="killed",
        reporting_period__date_start__gte=JULY_2017[0],
        reporting_period__date_end__lte=JULY_2017[1],
    )
    assert totals.aggregate(best=Sum("best"))["best"] == 40
    total = totals.select_related("report__source", "reporting_period").get()
    assert (total.status, total.group, total.qualifier, total.low, total.high) == (
        "unknown",
        "all",
        "approximately",
        40,
        40,
    )
    assert total.reported_phrase == "about 40 civilians and militants killed in 24 hours"
    assert (total.reporting_period.date_start, total.reporting_period.date_end) == (
        datetime.date(2017, 7, 19),
        datetime.date(2017, 7, 20),
    )
    assert total.reporting_period.label == "24 hours to 20 July 2017"
    assert (total.report.source.acronym, total.source_id) == ("SOHR", total.report.source_id)


def test_the_demo_report_is_sohrs_of_20_july_2017_with_no_invented_url():
    report = Report.objects.get(source__acronym="SOHR", published_on=datetime.date(2017, 7, 20))
    assert (report.url, report.archive_url, report.external_id) == ("", "", "")
    assert report.summary
