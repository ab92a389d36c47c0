"""The aggregates' CSV follows the exports' conventions: HXL row on request, a named file, a row count,
and no cell a spreadsheet would run as a formula."""

import datetime

import pytest

from tests.factories import IncidentFactory, RegionFactory, TallyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/aggregates/"


@pytest.fixture
def idlib():
    syria = RegionFactory(code="SYR", name="Syria")
    region = RegionFactory(code="SY07", name="Idlib", parent=syria)
    incident = IncidentFactory(region=region, date_start=datetime.date(2017, 7, 19))
    TallyFactory(incident=incident, outcome="injured", best=4, low=3, high=6)
    return region


def test_hxl_adds_a_hashtag_row_tagged_by_the_outcome_summed(api_client, idlib):
    params = {"interval": "month", "region_level": 1, "format": "csv", "outcome": "injured", "hxl": "1"}
    lines = b"".join(api_client.get(URL, params).streaming_content).decode().split("\r\n")

    assert lines[1] == (
        "#date+start,#date+end,#adm+code,#adm+name,#adm+level,#event+num,#event+num+figures,"
        "#affected+injured+low,#affected+injured+best,#affected+injured+high"
    )
    assert lines[2] == "2017-07-01,2017-07-31,SY07,Idlib,1,1,1,3,4,6"


def test_without_hxl_the_second_line_is_data_and_the_etags_differ(api_client, idlib):
    params = {"interval": "month", "region_level": 1, "format": "csv", "outcome": "injured"}
    plain = api_client.get(URL, params)
    tagged = api_client.get(URL, {**params, "hxl": "1"})

    assert b"".join(plain.streaming_content).decode().split("\r\n")[1].startswith("2017-07-01,")
    assert plain["ETag"] != tagged["ETag"]


def test_the_file_is_named_after_its_filters_and_carries_its_row_count(api_client, idlib):
    response = api_client.get(URL, {"interval": "month", "region": "SY07", "format": "csv"})

    today = datetime.date.today().isoformat()
    assert (
        response["Content-Disposition"] == f'attachment; filename="aggregates_interval-month_region-SY07_{today}.csv"'
    )
    assert response["X-Row-Count"] == "1"


def test_a_region_name_that_looks_like_a_formula_is_written_as_text(api_client):
    country = RegionFactory(code="XXX", name='=HYPERLINK("http://example.org")')
    IncidentFactory(region=country, date_start=datetime.date(2017, 7, 19))

    text = b"".join(api_client.get(URL, {"region_level": 0, "format": "csv"}).streaming_content).decode()

    assert text.split("\r\n")[1] == ',,XXX,"\'=HYPERLINK(""http://example.org"")",0,1,0,,,'


def test_a_bad_hxl_value_is_a_400_naming_it(api_client, idlib):
    response = api_client.get(URL, {"format": "csv", "hxl": "yes"})

    assert response.status_code == 400
    assert "hxl" in response.json()


def test_the_codebook_lists_exactly_the_aggregate_csv_columns_and_tags(api_client, idlib):
    import csv
    import io

    from tests.casualties.test_exports_codebook import documented

    response = api_client.get(URL, {"format": "csv", "hxl": "1"})
    header, hashtags, *_ = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert [(column, tag) for column, _type, tag in documented("aggregates")] == list(
        zip(header, hashtags, strict=True)
    )
