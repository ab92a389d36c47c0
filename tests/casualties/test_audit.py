"""The audit trail: every create, change and delete, whatever path it came by, with who, when and what."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.urls import reverse
from pghistory.models import MiddlewareEvents

from casualties.models import CasualtyTally, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from core.history import audit_events
from tests.factories import IncidentFactory, TallyFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in(role: str, username: str) -> tuple[Client, object]:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client, user


def form_data(response) -> dict:
    """The change page's forms posted back as loaded."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-{k}": v for k, v in inline.formset.management_form.initial.items()})
        forms += inline.formset.forms
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is not False:
                data[bound.html_name] = "" if value is None else value
    return data


def incident_events(incident) -> list[tuple]:
    return [
        (e.pgh_label, e.pgh_diff)
        for e in MiddlewareEvents.objects.tracks(incident).order_by("pgh_created_at", "pgh_id")
    ]


def test_a_bulk_queryset_update_is_recorded_per_row_with_before_and_after():
    first = IncidentFactory(title="Clashes in Ebelin", place_name="Ebelin")
    second = IncidentFactory(title="Clashes in Hazarin", place_name="Hazarin")

    Incident.objects.filter(pk__in=[first.pk, second.pk]).update(place_name="Idlib countryside")

    for incident, before in ((first, "Ebelin"), (second, "Hazarin")):
        (label, diff) = incident_events(incident)[-1]
        assert label == "update"
        assert diff["place_name"] == [before, "Idlib countryside"]
        assert diff["version"] == [1, 2]


def test_raw_sql_changes_and_deletes_are_recorded_too():
    tally = TallyFactory(best=40)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE casualties_casualtytally SET best = 41, high = 41 WHERE id = %s", [tally.pk])
    CasualtyTally.objects.filter(pk=tally.pk).delete()

    events = list(MiddlewareEvents.objects.tracks(tally).order_by("pgh_created_at", "pgh_id"))

    assert [e.pgh_label for e in events] == ["insert", "update", "delete"]
    assert events[1].pgh_diff["best"] == [40, 41]
    assert events[2].pgh_data["best"] == 41


def test_an_admin_edit_is_recorded_with_the_user_who_made_it():
    client, author = logged_in(DATA_ENTRY, "amal")
    incident = IncidentFactory(status="draft", created_by=author, title="Clashes")
    url = reverse("admin:casualties_incident_change", args=[incident.pk])
    data = form_data(client.get(url))
    data["title"] = "Clashes at Saraqib court"

    assert client.post(url, data).status_code == 302

    event = MiddlewareEvents.objects.tracks(incident).filter(pgh_label="update").get()
    assert event.user == author
    assert event.url == url
    assert event.pgh_diff["title"] == ["Clashes", "Clashes at Saraqib court"]


def test_the_history_page_lists_the_incidents_changes_and_those_of_its_figures_with_user_and_values():
    client, _ = logged_in(REVIEWER, "badr")
    incident = IncidentFactory(title="Clashes")
    tally = TallyFactory(incident=incident, best=40)
    Incident.objects.filter(pk=incident.pk).update(title="Clashes in Idlib")
    url = reverse("admin:casualties_incident_change", args=[incident.pk])
    client.post(reverse("admin:casualties_incident_transition", args=[incident.pk, "rejected"]))

    response = client.get(reverse("admin:casualties_incident_history", args=[incident.pk]))

    assert response.status_code == 200
    events = response.context["events"]
    # Events of one transaction share its time; the incident's own are in order, its figure's are beside them.
    own = [(e.action, e.user) for e in events if e.record == f"Incident #{incident.pk}"]
    # Newest first: the rejection, the new title, the figure added (its version rose), the creation.
    assert own == [("update", "badr"), ("update", ""), ("update", ""), ("insert", "")]
    assert [(e.action, e.user) for e in events if e.record == f"CasualtyTally #{tally.pk}"] == [("insert", "")]
    events = [e for e in events if e.record == f"Incident #{incident.pk}"]
    assert ("title", "Clashes", "Clashes in Idlib") in events[1].changes
    assert ("status", "verified", "rejected") in events[0].changes
    content = response.content.decode()
    assert '<span class="audit-before">Clashes</span> → <span class="audit-after">Clashes in Idlib</span>' in content
    assert url in content


def test_history_of_a_source_lists_only_its_own_events():
    incident = IncidentFactory()
    tally = TallyFactory(incident=incident)
    source = tally.report.source
    source.website = "https://www.syriahr.com"
    source.save()

    events = audit_events(source)

    assert [(e.action, e.record) for e in events] == [
        ("update", f"Source #{source.pk}"),
        ("insert", f"Source #{source.pk}"),
    ]
    assert events[0].changes == [("website", "", "https://www.syriahr.com")]
