"""Duplicate hints and merging: one event entered twice becomes one incident, and no figure is lost."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from pghistory.models import Events
from rest_framework.test import APIClient

from casualties.duplicates import incident_possible_duplicates
from casualties.models import CasualtyTally, Estimate, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from casualties.services import MergeRefused, incident_merge, incident_transition
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    RegionFactory,
    ReportFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def role_user(role: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def estimates(incident) -> list[tuple]:
    return list(
        Estimate.objects.filter(incident=incident)
        .order_by("outcome", "status", "group")
        .values_list("outcome", "status", "group", "low", "best", "high", "source_count")
    )


def test_merge_moves_the_figures_and_actors_and_recomputes_both_estimates():
    reviewer = role_user(REVIEWER, "badr")
    into = IncidentFactory(title="Clashes in Saraqib")
    duplicate = IncidentFactory(title="Fighting at Saraqib court")
    sohr = ReportFactory(published_on=datetime.date(2017, 7, 20))
    snhr = ReportFactory(published_on=datetime.date(2017, 7, 21))
    TallyFactory(incident=into, report=sohr, low=38, best=40, high=40)
    TallyFactory(incident=duplicate, report=snhr, low=35, best=36, high=45)
    TallyFactory(incident=duplicate, report=snhr, outcome="injured", best=12)
    hts = ActorFactory(name="Hay'at Tahrir al-Sham")
    IncidentActorFactory(incident=duplicate, actor=hts, role="side_b")

    incident_merge(duplicate=duplicate, into=into, user=reviewer)

    duplicate.refresh_from_db()
    assert duplicate.duplicate_of == into
    assert CasualtyTally.objects.filter(incident=into).count() == 3
    assert CasualtyTally.objects.filter(incident=duplicate).count() == 0
    assert estimates(into) == [
        ("injured", "civilian", "all", 12, 12, 12, 1),
        ("killed", "civilian", "all", 35, 36, 45, 2),
    ]
    assert estimates(duplicate) == []
    assert list(into.actor_roles.values_list("actor__name", "role")) == [("Hay'at Tahrir al-Sham", "side_b")]
    assert list(Incident.objects.counted().filter(pk__in=[into.pk, duplicate.pk])) == [into]


def test_the_same_figure_from_the_same_report_on_both_stays_once_and_its_move_is_in_the_history():
    reviewer = role_user(REVIEWER, "badr")
    into, duplicate = IncidentFactory(), IncidentFactory()
    report = ReportFactory()
    kept = TallyFactory(incident=into, report=report, best=40)
    twin = TallyFactory(incident=duplicate, report=report, best=40)

    incident_merge(duplicate=duplicate, into=into, user=reviewer)

    assert list(CasualtyTally.objects.values_list("pk", flat=True)) == [kept.pk]
    assert estimates(into) == [("killed", "civilian", "all", 40, 40, 40, 1)]
    deleted = Events.objects.references(duplicate).filter(pgh_label="delete")
    assert [(e.pgh_obj_model, e.pgh_obj_id) for e in deleted] == [("casualties.CasualtyTally", str(twin.pk))]


def test_a_merge_that_would_drop_a_differing_figure_is_refused_and_changes_nothing():
    reviewer = role_user(REVIEWER, "badr")
    into, duplicate = IncidentFactory(), IncidentFactory()
    report = ReportFactory(title="SOHR bulletin")
    kept = TallyFactory(incident=into, report=report, best=40)
    other = TallyFactory(incident=duplicate, report=report, best=38)

    with pytest.raises(MergeRefused) as refusal:
        incident_merge(duplicate=duplicate, into=into, user=reviewer)

    assert refusal.value.messages == [
        f"“SOHR bulletin” gives 38-38-38 on this incident (figure #{other.pk}) but 40-40-40 on the other "
        f"(figure #{kept.pk}) for the same outcome, status and group; correct one of them before merging."
    ]
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of is None
    assert CasualtyTally.objects.get(pk=other.pk).incident == duplicate


def test_a_merge_that_would_put_a_subgroup_above_its_all_figure_is_refused():
    reviewer = role_user(REVIEWER, "badr")
    into, duplicate = IncidentFactory(), IncidentFactory()
    report = ReportFactory(title="SNHR report")
    TallyFactory(incident=into, report=report, best=5)
    children = TallyFactory(incident=duplicate, report=report, group="children", best=7)

    with pytest.raises(MergeRefused) as refusal:
        incident_merge(duplicate=duplicate, into=into, user=reviewer)

    assert refusal.value.messages == [
        f"After the merge, figure #{children.pk} from “SNHR report” would break the of-which rule: The of which "
        "children figure (best 7, high 7) exceeds the figure for all from the same report (best 5, high 5). "
        "Correct it before merging."
    ]


def test_only_reviewers_merge():
    data_entry = role_user(DATA_ENTRY, "amal")
    into, duplicate = IncidentFactory(), IncidentFactory()

    with pytest.raises(PermissionDenied):
        incident_merge(duplicate=duplicate, into=into, user=data_entry)

    duplicate.refresh_from_db()
    assert duplicate.duplicate_of is None


def test_incidents_merged_into_the_duplicate_follow_it():
    reviewer = role_user(REVIEWER, "badr")
    into, duplicate, earlier = IncidentFactory(), IncidentFactory(), IncidentFactory()
    incident_merge(duplicate=earlier, into=duplicate, user=reviewer)

    incident_merge(duplicate=duplicate, into=into, user=reviewer)

    earlier.refresh_from_db()
    assert earlier.duplicate_of == into


def test_possible_duplicates_are_close_in_time_and_share_an_area_an_actor_or_similar_text():
    country = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=country)
    aleppo = RegionFactory(code="SY02", name="Aleppo", parent=country)
    saraqib = RegionFactory(code="SY0700", name="Saraqib", parent=idlib)
    day = datetime.date(2017, 7, 20)
    incident = IncidentFactory(title="Clashes at the Sharia court in Saraqib", region=saraqib, date_start=day)
    hts = ActorFactory()
    IncidentActorFactory(incident=incident, actor=hts)
    in_governorate = IncidentFactory(title="Shelling", region=idlib, date_start=day - datetime.timedelta(days=1))
    IncidentActorFactory(incident=in_governorate, actor=hts)
    shared_actor = IncidentFactory(title="Raid", region=aleppo, date_start=day + datetime.timedelta(days=1))
    IncidentActorFactory(incident=shared_actor, actor=hts)
    similar = IncidentFactory(title="Clashes at Sharia court of Saraqib", region=aleppo, date_start=day)
    IncidentFactory(title="Clashes at the Sharia court in Saraqib", region=saraqib, date_start=day.replace(day=22))
    IncidentFactory(title="Unrelated", region=aleppo, date_start=day)
    merged = IncidentFactory(title="Clashes at the Sharia court in Saraqib", region=saraqib, date_start=day)
    merged.duplicate_of = in_governorate
    merged.save()

    found = incident_possible_duplicates(incident=incident, limit=10)

    assert [(i.pk, i.same_region, i.shared_actor, i.match_count) for i in found] == [
        (in_governorate.pk, 1, 1, 2),
        (similar.pk, 0, 0, 1),
        (shared_actor.pk, 0, 1, 1),
    ]
    assert found[1].text_similarity > 0.5


def test_the_incident_page_lists_possible_duplicates_and_merges_from_there():
    reviewer = role_user(REVIEWER, "badr")
    client = Client()
    client.force_login(reviewer)
    region = RegionFactory()
    into = IncidentFactory(title="Clashes in Ebelin", region=region)
    duplicate = IncidentFactory(title="Ebelin clashes", region=region)
    TallyFactory(incident=duplicate, best=7)
    page = client.get(reverse("admin:casualties_incident_change", args=[duplicate.pk])).content.decode()
    merge_url = reverse("admin:casualties_incident_merge", args=[duplicate.pk, into.pk])
    assert merge_url in page

    response = client.post(merge_url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:casualties_incident_change", args=[into.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Merged “Ebelin clashes” into this incident; its figures moved here."
    ]
    assert estimates(into) == [("killed", "civilian", "all", 7, 7, 7, 1)]


def test_data_entry_sees_possible_duplicates_but_no_merge_button():
    user = role_user(DATA_ENTRY, "amal")
    client = Client()
    client.force_login(user)
    region = RegionFactory()
    other = IncidentFactory(title="Clashes in Ebelin", region=region)
    own = IncidentFactory(title="Ebelin clashes", region=region, status="draft", created_by=user)

    page = client.get(reverse("admin:casualties_incident_change", args=[own.pk])).content.decode()
    response = client.post(reverse("admin:casualties_incident_merge", args=[own.pk, other.pk]), follow=True)

    assert reverse("admin:casualties_incident_change", args=[other.pk]) in page
    assert "merge-into" not in page
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Only reviewers can merge duplicates."]
    own.refresh_from_db()
    assert own.duplicate_of is None


def test_the_survivor_keeps_its_own_roles_for_an_actor_both_name_and_gains_the_actors_it_lacked():
    reviewer = role_user(REVIEWER, "badr")
    into, duplicate = IncidentFactory(title="Clashes in Saraqib"), IncidentFactory(title="Saraqib court attack")
    hts, ahrar = ActorFactory(name="Hay'at Tahrir al-Sham"), ActorFactory(name="Ahrar al-Sham")
    IncidentActorFactory(incident=into, actor=hts, role="side_a")
    IncidentActorFactory(incident=duplicate, actor=hts, role="target")
    IncidentActorFactory(incident=duplicate, actor=ahrar, role="target")

    incident_merge(duplicate=duplicate, into=into, user=reviewer)

    assert sorted(into.actor_roles.values_list("actor__name", "role")) == [
        ("Ahrar al-Sham", "target"),
        ("Hay'at Tahrir al-Sham", "side_a"),
    ]


def test_a_merged_duplicate_leaves_every_review_queue_and_offers_no_review_step():
    author, reviewer = role_user(DATA_ENTRY, "amal"), role_user(REVIEWER, "badr")
    into = IncidentFactory(title="Clashes in Saraqib", status="submitted", created_by=author)
    duplicate = IncidentFactory(title="Saraqib court attack", status="submitted", created_by=author)
    incident_merge(duplicate=duplicate, into=into, user=reviewer)
    client = Client()
    client.force_login(role_user(REVIEWER, "rima"))

    queue = client.get(reverse("admin:casualties_incident_changelist"), {"status__exact": "submitted"})
    merged = client.get(reverse("admin:casualties_incident_changelist"), {"status__exact": "merged"})
    page = client.get(reverse("admin:casualties_incident_change", args=[duplicate.pk]))

    assert [i.pk for i in queue.context["cl"].result_list] == [into.pk]
    assert [i.pk for i in merged.context["cl"].result_list] == [duplicate.pk]
    assert page.context["review_status"] == f"Merged into incident #{into.pk}"
    assert page.context["workflow_buttons"] == ""
    with pytest.raises(PermissionDenied, match=r"This incident was merged into another; review that one instead\."):
        incident_transition(incident=duplicate, to_status="verified", user=reviewer)

    api = APIClient()
    api.force_authenticate(reviewer)
    submitted = api.get("/api/v1/incidents/", {"status": "submitted"}).json()["results"]
    assert [row["public_id"] for row in submitted] == [str(into.public_id)]
    asked = api.get("/api/v1/incidents/", {"status": "merged"}).json()["results"]
    assert [row["public_id"] for row in asked] == [str(duplicate.public_id)]


def test_the_survivor_lists_what_was_merged_into_it():
    reviewer = role_user(REVIEWER, "badr")
    into = IncidentFactory(title="Clashes in Saraqib")
    first, second = IncidentFactory(title="Saraqib court attack"), IncidentFactory(title="Fighting in Saraqib")
    incident_merge(duplicate=first, into=into, user=reviewer)
    incident_merge(duplicate=second, into=into, user=reviewer)
    client = Client()
    client.force_login(reviewer)

    page = client.get(reverse("admin:casualties_incident_change", args=[into.pk])).content.decode()
    detail = APIClient().get(f"/api/v1/incidents/{into.public_id}/").json()

    assert "Saraqib court attack" in page.split('class="readonly merged-from"')[1].split("</div>")[0]
    assert "Fighting in Saraqib" in page.split('class="readonly merged-from"')[1].split("</div>")[0]
    assert sorted(detail["merged_from"]) == sorted([str(first.public_id), str(second.public_id)])
