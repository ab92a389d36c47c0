"""A replayed create is a 200 with the record it made: after review moved on, and when two identical requests race.

The races run on real concurrent connections: each request in its own thread and transaction,
held at a barrier right after it looked for an existing record, so both look before either
writes, whatever the machine's speed.
"""

import threading
from unittest import mock

import pytest
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casualties.models import CasualtyTally, Incident
from casualties.roles import DATA_ENTRY, REVIEWER
from casualties.services import incident_transition
from sources.models import Report
from tests.casualties.test_api_incidents import new_incident_body, token_client, user_with_role
from tests.factories import IncidentFactory, ReportFactory, SourceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def tally_body(incident, report) -> dict:
    return {
        "report": report.pk, "incident": str(incident.public_id), "outcome": "killed", "status": "civilian",
        "best": 40, "reported_phrase": "about 40 killed",
    }  # fmt: skip


@pytest.mark.parametrize("steps", [["submitted"], ["submitted", "verified"]])
def test_a_figure_resent_after_its_incident_moved_on_in_review_is_a_200_with_that_figure(steps):
    author, reviewer = user_with_role(DATA_ENTRY), user_with_role(REVIEWER)
    incident, report = IncidentFactory(status="draft", created_by=author), ReportFactory()
    client = token_client(author)
    first = client.post("/api/v1/tallies/", tally_body(incident, report), format="json")
    for step in steps:
        incident_transition(incident=incident, to_status=step, user=author if step == "submitted" else reviewer)

    again = client.post("/api/v1/tallies/", tally_body(incident, report), format="json")
    changed = client.post("/api/v1/tallies/", {**tally_body(incident, report), "best": 41}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert changed.status_code == 403  # not a replay: a change, which the role no longer allows
    assert CasualtyTally.objects.count() == 1


def test_an_incident_resent_after_it_was_submitted_is_a_200_with_that_incident():
    author = user_with_role(DATA_ENTRY)
    client = token_client(author)
    body = new_incident_body()
    first = client.post("/api/v1/incidents/", body, format="json")
    incident_transition(incident=Incident.objects.get(), to_status="submitted", user=author)

    again = client.post("/api/v1/incidents/", body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["public_id"] == first.json()["public_id"]
    assert again.json()["status"] == "submitted"
    assert Incident.objects.count() == 1


def clients_of(user) -> list[APIClient]:
    """Two clients with the user's token: two loader processes sharing one account."""
    key = Token.objects.create(user=user).key
    clients = [APIClient(), APIClient()]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return clients


def race(lookup: str, send) -> list:
    """Run ``send(0)`` and ``send(1)`` in two threads at once, each held after its first call of ``lookup``
    until both made it."""
    barrier = threading.Barrier(2)
    held = threading.local()
    module, name = lookup.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def look_then_wait(**kwargs):
        found = real(**kwargs)
        if not getattr(held, "done", False):
            held.done = True
            barrier.wait(timeout=60)  # a safety net against a hang, not a timing: both threads must arrive
        return found

    answers = [None, None]

    def run(index: int) -> None:
        try:
            answers[index] = send(index)
        finally:
            connections.close_all()

    with mock.patch(lookup, side_effect=look_then_wait):
        threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return answers


def test_two_identical_figures_racing_make_one_figure_and_both_answer_with_it():
    author = user_with_role(DATA_ENTRY)
    incident, report = IncidentFactory(status="draft", created_by=author), ReportFactory()
    clients = clients_of(author)

    answers = race(
        "casualties.services.tallies.tally_existing",
        lambda index: clients[index].post("/api/v1/tallies/", tally_body(incident, report), format="json"),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 201]
    assert answers[0].json() == answers[1].json()
    assert CasualtyTally.objects.count() == 1


def test_two_identical_incidents_racing_make_one_incident_and_both_answer_with_it():
    clients = clients_of(user_with_role(DATA_ENTRY))
    body = new_incident_body()

    answers = race(
        "casualties.services.incidents.incident_existing",
        lambda index: clients[index].post("/api/v1/incidents/", body, format="json"),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 201]
    assert answers[0].json()["public_id"] == answers[1].json()["public_id"]
    assert Incident.objects.count() == 1


def test_two_identical_reports_racing_make_one_report_and_both_answer_with_it():
    clients, source = clients_of(user_with_role(DATA_ENTRY)), SourceFactory()
    body = {"source": source.pk, "title": "About 40 killed", "published_on": "2017-07-20", "external_id": "sohr-1"}

    answers = race(
        "sources.services.report_existing",
        lambda index: clients[index].post("/api/v1/reports/", body, format="json"),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Report.objects.count() == 1
