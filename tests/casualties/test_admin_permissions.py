"""The permission matrix of the admin: what each role may see and do, page by page."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from casualties.models import Incident
from casualties.roles import DATA_ENTRY, RESEARCHER, REVIEWER
from tests.factories import IncidentFactory, RegionFactory, TallyFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = [DATA_ENTRY, REVIEWER, RESEARCHER]


@pytest.fixture
def world():
    """Users of each role, and incidents in each state, one draft of the data-entry user's own."""
    users = {}
    for role in ROLES:
        users[role] = UserFactory(username=role.lower().replace(" ", "_"), is_staff=True)
        users[role].groups.add(Group.objects.get(name=role))
    colleague = UserFactory(username="colleague", is_staff=True)
    colleague.groups.add(Group.objects.get(name=DATA_ENTRY))
    incidents = {
        "own draft": IncidentFactory(status="draft", created_by=users[DATA_ENTRY]),
        "own submitted": IncidentFactory(status="submitted", created_by=users[DATA_ENTRY]),
        "colleague's draft": IncidentFactory(status="draft", created_by=colleague),
        "verified": IncidentFactory(status="verified", created_by=colleague),
    }
    for incident in incidents.values():
        TallyFactory(incident=incident)
    return users, incidents


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(incident) -> str:
    return reverse("admin:casualties_incident_change", args=[incident.pk])


# (page, role) -> status code of a GET
PAGES = {
    "admin:casualties_incident_changelist": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 200},
    "admin:casualties_incident_add": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 403},
    "admin:casualties_casualtytally_add": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 403},
    "admin:casualties_casualtytally_changelist": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 200},
    "admin:sources_report_add": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 403},
    "admin:sources_source_add": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 403},
    "admin:casualties_reportingperiod_add": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 403},
    "admin:casualties_actor_add": {DATA_ENTRY: 403, REVIEWER: 200, RESEARCHER: 403},
    "admin:casualties_region_add": {DATA_ENTRY: 403, REVIEWER: 403, RESEARCHER: 403},
    "admin:casualties_region_changelist": {DATA_ENTRY: 200, REVIEWER: 200, RESEARCHER: 200},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_each_role_reaches_exactly_its_pages(world, page, role):
    users, _ = world

    response = client_for(users[role]).get(reverse(page))

    assert response.status_code == PAGES[page][role]


def test_staff_without_a_role_reach_no_casualty_page(world):
    client = client_for(UserFactory(username="nobody", is_staff=True))

    assert client.get(reverse("admin:casualties_incident_changelist")).status_code == 403
    assert client.get(reverse("admin:sources_report_changelist")).status_code == 403


# role -> which incidents its change list shows
LISTED = {
    DATA_ENTRY: ["own draft", "own submitted", "verified"],
    REVIEWER: ["own draft", "own submitted", "colleague's draft", "verified"],
    RESEARCHER: ["own draft", "own submitted", "colleague's draft", "verified"],
}


@pytest.mark.parametrize("role", ROLES)
def test_the_change_list_shows_each_role_the_incidents_it_may_see(world, role):
    users, incidents = world

    response = client_for(users[role]).get(reverse("admin:casualties_incident_changelist"))

    shown = {i.pk for i in response.context["cl"].result_list}
    assert shown == {incidents[name].pk for name in LISTED[role]}


# (role, incident) -> (status of a GET of the change page, whether its form is editable)
CHANGE_PAGE = {
    (DATA_ENTRY, "own draft"): (200, True),
    (DATA_ENTRY, "own submitted"): (200, False),
    (DATA_ENTRY, "colleague's draft"): (302, None),
    (DATA_ENTRY, "verified"): (200, False),
    (REVIEWER, "own draft"): (200, True),
    (REVIEWER, "colleague's draft"): (200, True),
    (REVIEWER, "verified"): (200, True),
    (RESEARCHER, "colleague's draft"): (200, False),
    (RESEARCHER, "verified"): (200, False),
}


@pytest.mark.parametrize(("role", "name"), list(CHANGE_PAGE))
def test_each_role_edits_exactly_the_incidents_it_may_and_only_reads_the_others(world, role, name):
    users, incidents = world
    status, editable = CHANGE_PAGE[(role, name)]

    response = client_for(users[role]).get(change_url(incidents[name]))

    assert response.status_code == status
    if status == 200:
        assert response.context["has_change_permission"] is editable
        inline = response.context["inline_admin_formsets"][0]
        assert inline.has_change_permission is editable
        assert inline.has_add_permission is editable


@pytest.mark.parametrize(
    ("role", "name", "status"),
    [
        (DATA_ENTRY, "own submitted", 403),
        (DATA_ENTRY, "verified", 403),
        (RESEARCHER, "verified", 403),
        (RESEARCHER, "own draft", 403),
    ],
)
def test_posting_to_an_incident_the_role_may_not_edit_is_forbidden_and_changes_nothing(world, role, name, status):
    users, incidents = world
    incident = incidents[name]

    response = client_for(users[role]).post(change_url(incident), {"title": "Overwritten"})

    assert response.status_code == status
    assert Incident.objects.get(pk=incident.pk).title == incident.title


@pytest.mark.parametrize(("role", "status"), [(DATA_ENTRY, 403), (REVIEWER, 200), (RESEARCHER, 403)])
def test_only_reviewers_delete_incidents(world, role, status):
    users, incidents = world
    url = reverse("admin:casualties_incident_delete", args=[incidents["verified"].pk])

    assert client_for(users[role]).get(url).status_code == status


@pytest.mark.parametrize(("role", "status"), [(DATA_ENTRY, 200), (REVIEWER, 200), (RESEARCHER, 200)])
def test_every_role_reads_the_history_of_an_incident_it_can_see(world, role, status):
    users, incidents = world
    url = reverse("admin:casualties_incident_history", args=[incidents["verified"].pk])

    assert client_for(users[role]).get(url).status_code == status


def test_data_entry_cannot_read_the_history_of_a_colleagues_draft(world):
    users, incidents = world
    url = reverse("admin:casualties_incident_history", args=[incidents["colleague's draft"].pk])

    assert client_for(users[DATA_ENTRY]).get(url).status_code == 302


def test_data_entry_reads_the_gazetteer_but_cannot_change_it(world):
    users, _ = world
    region = RegionFactory()
    url = reverse("admin:casualties_region_change", args=[region.pk])
    client = client_for(users[DATA_ENTRY])

    assert client.get(url).context["has_change_permission"] is False
    assert client.post(url, {"name": "Renamed"}).status_code == 403
