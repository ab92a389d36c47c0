"""Reference records (periods, gazetteer, actors, incident types) are written by the reference services."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from pghistory.models import MiddlewareEvents

from casualties.models import Actor, ActorName, ReportingPeriod
from casualties.roles import DATA_ENTRY, REVIEWER
from casualties.services import reference_delete, reference_save
from core.services import Invalid, NotAllowed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def staff(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_data_entry_adds_a_reporting_period_in_the_admin_and_the_audit_names_them():
    user = staff(DATA_ENTRY)
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("admin:casualties_reportingperiod_add"),
        {"date_start": "2017-07-19", "date_end": "2017-07-20", "label": "24 hours to 20 July 2017"},
    )
    assert response.status_code == 302
    period = ReportingPeriod.objects.get()
    event = MiddlewareEvents.objects.tracks(period).get()
    assert (event.pgh_label, event.user) == ("insert", user)


def test_a_reviewer_adds_an_actor_with_a_former_name_in_one_page():
    client = Client()
    client.force_login(staff(REVIEWER))
    response = client.post(
        reverse("admin:casualties_actor_add"),
        {
            "name": "Hay'at Tahrir al-Sham", "acronym": "HTS", "kind": "non_state_armed_group", "country": "",
            "names-TOTAL_FORMS": "1", "names-INITIAL_FORMS": "0",
            "names-0-name": "Jabhat al-Nusra", "names-0-acronym": "", "names-0-valid_from": "", "names-0-valid_to": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    actor = Actor.objects.get()
    assert list(ActorName.objects.filter(actor=actor).values_list("name", flat=True)) == ["Jabhat al-Nusra"]


def test_the_reference_services_refuse_a_user_without_the_permission_and_an_invalid_record():
    data_entry = staff(DATA_ENTRY)
    with pytest.raises(NotAllowed, match=r"You may not add actors\."):
        reference_save(user=data_entry, record=Actor(name="Ahrar al-Sham", kind="non_state_armed_group"))
    period = reference_save(
        user=data_entry, record=ReportingPeriod(date_start="2017-07-19", date_end="2017-07-20", label="24 h")
    )
    with pytest.raises(NotAllowed, match=r"You may not delete reporting periods\."):
        reference_delete(user=data_entry, record=period)
    with pytest.raises(Invalid):
        reference_save(user=data_entry, record=ReportingPeriod(date_start="2017-07-21", date_end="2017-07-20"))
    assert ReportingPeriod.objects.count() == 1
