import datetime

import pytest

from sources.models import Report
from tests.casualties.test_api_incidents import token_client, user_with_role
from tests.factories import ReportFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_sources_filter_by_kind_and_search(api_client):
    SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR", kind="monitoring_group")
    SourceFactory(name="Reuters", kind="news_media")
    body = api_client.get("/api/v1/sources/", {"kind": "monitoring_group"}).json()
    assert [row["acronym"] for row in body["results"]] == ["SOHR"]
    body = api_client.get("/api/v1/sources/", {"q": "reut"}).json()
    assert [row["name"] for row in body["results"]] == ["Reuters"]
    assert api_client.get("/api/v1/sources/", {"kind": "blog"}).status_code == 400


def test_reports_filter_by_source_acronym_and_publication_dates(api_client):
    sohr = SourceFactory(acronym="SOHR")
    july = ReportFactory(source=sohr, published_on=datetime.date(2017, 7, 20))
    ReportFactory(source=sohr, published_on=datetime.date(2017, 9, 1))
    ReportFactory(published_on=datetime.date(2017, 7, 21))
    body = api_client.get("/api/v1/reports/", {"source": "sohr", "published_to": "2017-07-31"}).json()
    assert [row["id"] for row in body["results"]] == [july.pk]
    response = api_client.get("/api/v1/reports/", {"source": "NOPE"})
    assert response.json() == {"source": ["No source has the id, acronym or name 'NOPE'."]}


def report_body(source, **overrides) -> dict:
    body = {
        "source": source.pk, "title": "About 40 killed in 24 hours of clashes in Idlib",
        "url": "https://example.org/sohr/2017-07-20", "published_on": "2017-07-20", "language": "ar",
        "external_id": "sohr-2017-07-20",
    }  # fmt: skip
    return {**body, **overrides}


def test_a_service_creates_a_report_and_a_retry_creates_nothing_new():
    client, source = token_client(user_with_role("Data entry")), SourceFactory()
    first = client.post("/api/v1/reports/", report_body(source), format="json")
    second = client.post("/api/v1/reports/", report_body(source), format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Report.objects.count() == 1


def test_a_report_retry_with_other_content_is_a_409():
    client, source = token_client(user_with_role("Data entry")), SourceFactory()
    client.post("/api/v1/reports/", report_body(source), format="json")
    response = client.post("/api/v1/reports/", report_body(source, title="Another title"), format="json")
    assert response.status_code == 409
    assert Report.objects.get().title == "About 40 killed in 24 hours of clashes in Idlib"


def test_an_invalid_report_is_a_400_per_field():
    client, source = token_client(user_with_role("Data entry")), SourceFactory()
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    response = client.post("/api/v1/reports/", report_body(source, language="xx", published_on=future), format="json")
    assert response.status_code == 400
    assert "language" in response.json()
    assert Report.objects.count() == 0


def test_the_same_url_twice_for_one_source_is_a_400():
    client, source = token_client(user_with_role("Data entry")), SourceFactory()
    client.post("/api/v1/reports/", report_body(source), format="json")
    response = client.post("/api/v1/reports/", report_body(source, external_id=""), format="json")
    assert response.status_code == 400
    assert Report.objects.count() == 1


def test_a_report_update_needs_the_current_updated_at():
    amal = user_with_role("Data entry")
    client, report = token_client(amal), ReportFactory(created_by=amal)
    read = client.get(f"/api/v1/reports/{report.pk}/").json()
    ok = client.patch(
        f"/api/v1/reports/{report.pk}/", {"summary": "x", "updated_at": read["updated_at"]}, format="json"
    )
    assert ok.status_code == 200
    stale = client.patch(
        f"/api/v1/reports/{report.pk}/", {"summary": "y", "updated_at": read["updated_at"]}, format="json"
    )
    assert stale.status_code == 409
    report.refresh_from_db()
    assert report.summary == "x"


def test_reports_need_a_role_to_write(api_client):
    source = SourceFactory()
    assert api_client.post("/api/v1/reports/", report_body(source), format="json").status_code == 401
    assert token_client(UserFactory()).post("/api/v1/reports/", report_body(source), format="json").status_code == 403


def test_report_detail_has_an_etag(api_client):
    report = ReportFactory()
    etag = api_client.get(f"/api/v1/reports/{report.pk}/")["ETag"]
    assert api_client.get(f"/api/v1/reports/{report.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_sources_filter_by_country(api_client):
    SourceFactory(name="Syrian Observatory", country="GBR")
    SourceFactory(name="Ministry", country="SYR")
    body = api_client.get("/api/v1/sources/", {"country": "syr"}).json()
    assert [row["name"] for row in body["results"]] == ["Ministry"]


def test_reports_filter_by_language_external_id_text_and_start_date(api_client):
    arabic = ReportFactory(
        language="ar", external_id="a-1", title="اشتباكات في إدلب", published_on=datetime.date(2017, 7, 1)
    )
    english = ReportFactory(language="en", summary="Clashes in Saraqib", published_on=datetime.date(2017, 8, 1))
    ids = lambda q: [row["id"] for row in api_client.get("/api/v1/reports/", q).json()["results"]]  # noqa: E731
    assert ids({"language": "ar"}) == [arabic.pk]
    assert ids({"external_id": "a-1"}) == [arabic.pk]
    assert ids({"q": "saraqib"}) == [english.pk]
    assert ids({"published_from": "2017-07-15"}) == [english.pk]
    assert ids({"ordering": "published_on"}) == [arabic.pk, english.pk]
    assert ids({"ordering": "-published_on"}) == [english.pk, arabic.pk]
