import base64
import datetime
import json

import pytest

from casualties.api.pagination import keyset_after
from casualties.models import Incident
from tests.factories import IncidentFactory, RegionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def incidents_on(days: list[int], region=None) -> list:
    region = region or RegionFactory()
    return [IncidentFactory(title=f"day {d}", region=region, date_start=datetime.date(2017, 7, d)) for d in days]


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_pages_follow_the_next_links_to_the_end_without_gaps_or_repeats(api_client):
    incidents_on([1, 2, 2, 2, 3, 4, 5])
    seen, url = [], f"{URL}?page_size=3"
    while url:
        body = api_client.get(url).json()
        seen.append([row["title"] for row in body["results"]])
        url = body["next"]
    assert seen == [["day 5", "day 4", "day 3"], ["day 2", "day 2", "day 2"], ["day 1"]]


def test_rows_inserted_before_the_cursor_do_not_shift_the_next_page(api_client):
    region = RegionFactory()
    incidents_on([1, 2, 3, 4], region=region)
    first = api_client.get(URL, {"page_size": 2}).json()
    assert [r["title"] for r in first["results"]] == ["day 4", "day 3"]
    incidents_on([9, 8], region=region)  # newer rows sort before the cursor
    assert titles(api_client.get(first["next"])) == ["day 2", "day 1"]


def test_the_previous_link_returns_the_page_before(api_client):
    incidents_on([1, 2, 3, 4, 5])
    first = api_client.get(URL, {"page_size": 2}).json()
    second = api_client.get(first["next"]).json()
    assert first["previous"] is None
    back = api_client.get(second["previous"]).json()
    assert [r["title"] for r in back["results"]] == ["day 5", "day 4"]
    assert back["previous"] is None
    assert back["next"] is not None


def test_the_default_page_size_is_100(api_client):
    incidents_on([1] * 101)
    body = api_client.get(URL).json()
    assert len(body["results"]) == 100
    assert body["next"] is not None


def test_ordering_by_update_time_pages_on_update_time_and_id(api_client):
    a, b, c = incidents_on([1, 2, 3])
    first = api_client.get(URL, {"ordering": "updated_at", "page_size": 2}).json()
    assert [r["title"] for r in first["results"]] == [a.title, b.title]
    assert titles(api_client.get(first["next"])) == [c.title]


@pytest.mark.parametrize("page_size", ["0", "1001", "ten", "-5"])
def test_a_page_size_outside_1_to_1000_is_a_400(api_client, page_size):
    response = api_client.get(URL, {"page_size": page_size})
    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def forged(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        forged({"o": ["-date_start", "-id"], "v": ["yesterday", 1], "b": False}),
        forged({"o": ["-date_start", "-id"], "v": ["2017-07-01"], "b": False}),
        forged({"o": ["-date_start", "-id"], "v": ["2017-07-01", 2**70], "b": False}),
        forged({"o": ["title", "-id"], "v": ["x", 1], "b": False}),
        forged([1, 2]),
    ],
)
def test_a_malformed_or_forged_cursor_is_a_400(api_client, cursor):
    IncidentFactory()
    response = api_client.get(URL, {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_a_cursor_from_another_ordering_is_a_400(api_client):
    incidents_on([1, 2, 3])
    next_link = api_client.get(URL, {"page_size": 1}).json()["next"]
    response = api_client.get(next_link + "&ordering=updated_at")
    assert response.status_code == 400
    assert response.json() == {"cursor": ["This cursor belongs to a different ordering."]}


def test_the_cursor_condition_also_bounds_the_first_sort_key_so_an_index_scan_can_start_at_the_cursor():
    day = datetime.date(2017, 7, 2)
    after = Incident.objects.filter(keyset_after(["-date_start", "-id"], [day, 7], backwards=False))
    before = Incident.objects.filter(keyset_after(["-date_start", "-id"], [day, 7], backwards=True))
    assert str(after.query).split(" WHERE ")[1] == (
        '("casualties_incident"."date_start" <= 2017-07-02 AND ("casualties_incident"."date_start" < 2017-07-02'
        ' OR ("casualties_incident"."date_start" = 2017-07-02 AND "casualties_incident"."id" < 7)))'
        ' ORDER BY "casualties_incident"."date_start" DESC, "casualties_incident"."id" DESC'
    )
    assert (
        str(before.query)
        .split(" WHERE ")[1]
        .startswith(
            '("casualties_incident"."date_start" >= 2017-07-02 AND ("casualties_incident"."date_start" > 2017-07-02'
        )
    )


def test_pages_deep_in_the_list_and_back_give_the_same_rows_as_one_long_page(api_client):
    incidents_on([1, 1, 2, 2, 2, 3, 4, 4, 5])
    everything = titles(api_client.get(URL, {"page_size": 9}))
    forwards, url, pages = [], f"{URL}?page_size=2", []
    while url:
        body = api_client.get(url).json()
        pages.append(body)
        forwards += [row["title"] for row in body["results"]]
        url = body["next"]
    backwards, url = [], pages[-1]["previous"]
    while url:
        body = api_client.get(url).json()
        backwards = [row["title"] for row in body["results"]] + backwards
        url = body["previous"]
    assert forwards == everything == ["day 5", "day 4", "day 4", "day 3", "day 2", "day 2", "day 2", "day 1", "day 1"]
    assert backwards == everything[:-1]
