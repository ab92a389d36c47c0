"""CSV exports under /api/v1/exports/: exact rows, format, HXL, injection, scoping, errors and the export log.

An export reads through a database connection of its own, so these tests commit their data
(transactional tests) for that connection to see it.
"""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection

from casualties import exports
from casualties.choices import ReviewStatus
from casualties.models import ExportLog
from casualties.roles import DATA_ENTRY, RESEARCHER
from tests.exports import receipt, receipt_row_count
from tests.factories import (
    ActorFactory,
    IncidentActorFactory,
    IncidentFactory,
    IncidentTypeFactory,
    ReportFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = datetime.date
INCIDENTS = "/api/v1/exports/incidents.csv"
TALLIES = "/api/v1/exports/tallies.csv"
PERIOD_TOTALS = "/api/v1/exports/period-totals.csv"


def body(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8")


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response), newline="")))


def user_with_role(role: str):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def places(idlib_places):
    return idlib_places


@pytest.fixture
def clash(places):
    """The July 2017 clash in Saraqib: two SOHR/SNHR figures for civilians killed, one for combatants."""
    sohr = SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR")
    snhr = SourceFactory(name="Syrian Network for Human Rights", acronym="SNHR")
    incident = IncidentFactory(
        title="Clashes between Ahrar al-Sham and HTS in Saraqib",
        region=places["saraqib"],
        date_start=D(2017, 7, 19),
        date_end=D(2017, 7, 20),
        date_precision="days",
        place_name="Saraqib",
        incident_type=IncidentTypeFactory(code="armed-clash", name="Armed clash"),
    )
    IncidentActorFactory(incident=incident, actor=ActorFactory(name="Ahrar al-Sham"), role="side_a")
    IncidentActorFactory(incident=incident, actor=ActorFactory(name="Hay'at Tahrir al-Sham"), role="side_b")
    first = ReportFactory(source=sohr, url="https://example.org/sohr/1", published_on=D(2017, 7, 20))
    second = ReportFactory(source=snhr, url="https://example.org/snhr/1", published_on=D(2017, 7, 21))
    TallyFactory(incident=incident, report=first, low=35, best=40, high=45, reported_phrase="about 40 killed")
    TallyFactory(incident=incident, report=second, low=30, best=38, high=50)
    TallyFactory(incident=incident, report=second, status="combatant", low=12, best=12, high=12)
    return incident


def test_incident_export_writes_one_wide_row_per_incident_with_its_estimates(api_client, clash):
    clash.refresh_from_db()  # its figures and actors, added after it, raised its version and updated_at
    response = api_client.get(INCIDENTS)

    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    [row] = rows(response)
    assert receipt_row_count(api_client, response) == 1
    statuses = ("civilian", "combatant", "unknown")
    expected_estimates = {
        f"{o}_{s}_{b}": "" for o in ("killed", "injured") for s in statuses for b in ("low", "best", "high")
    }
    expected_estimates.update(
        killed_civilian_low="30", killed_civilian_best="38", killed_civilian_high="50",
        killed_combatant_low="12", killed_combatant_best="12", killed_combatant_high="12",
    )  # fmt: skip
    assert row == {
        "incident_id": str(clash.public_id),
        "title": "Clashes between Ahrar al-Sham and HTS in Saraqib",
        "date_start": "2017-07-19",
        "date_end": "2017-07-20",
        "date_precision": "days",
        "country_code": "SYR",
        "country_name": "Syria",
        "admin1_code": "SY07",
        "admin1_name": "Idlib",
        "admin2_code": "SY0700",
        "admin2_name": "Idlib district",
        "admin3_code": "SY070003",
        "admin3_name": "Saraqib",
        "admin4_code": "",
        "admin4_name": "",
        "place_name": "Saraqib",
        "latitude": "",
        "longitude": "",
        "location_precision": "admin3",
        "incident_type": "armed-clash",
        "incident_type_name": "Armed clash",
        "side_a": "Ahrar al-Sham",
        "side_b": "Hay'at Tahrir al-Sham",
        "perpetrator": "",
        "target": "",
        "status": "verified",
        "source_count": "2",
        "report_urls": "https://example.org/snhr/1 https://example.org/sohr/1",
        **expected_estimates,
        "updated_at": clash.updated_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_export_is_rfc4180_with_crlf_line_ends_and_quotes_where_needed(api_client, places):
    IncidentFactory(region=places["idlib"], title='Shelling, "heavy"\nat night')

    text = body(api_client.get(INCIDENTS))

    lines = text.split("\r\n")
    assert lines[0].startswith("incident_id,title,date_start,date_end,date_precision,country_code,")
    assert '"Shelling, ""heavy""\nat night"' in lines[1]
    assert lines[-1] == ""  # the file ends with a line end
    assert "\n" not in lines[0]


def test_missing_figures_are_empty_never_zero_and_coarse_locations_leave_lower_levels_empty(api_client, places):
    incident = IncidentFactory(region=places["idlib"], place_name="Zaweya Mountains")
    TallyFactory(incident=incident, best=0, outcome="injured")

    [row] = rows(api_client.get(INCIDENTS))

    assert (row["admin1_code"], row["admin2_code"], row["admin3_code"]) == ("SY07", "", "")
    assert row["location_precision"] == "admin1"
    assert (row["injured_civilian_best"], row["killed_civilian_best"]) == ("0", "")
    assert row["source_count"] == "1"


def test_hxl_row_follows_the_header(api_client, clash):
    reader = csv.reader(io.StringIO(body(api_client.get(INCIDENTS, {"hxl": "1"})), newline=""))
    header, hashtags, data = next(reader), next(reader), next(reader)

    tags = dict(zip(header, hashtags, strict=True))
    assert tags["date_start"] == "#date+start"
    assert tags["admin1_code"] == "#adm1+code"
    assert tags["admin1_name"] == "#adm1+name"
    assert tags["killed_civilian_best"] == "#affected+killed+civilian+best"
    assert tags["injured_unknown_high"] == "#affected+injured+unknown+high"
    assert tags["source_count"] == "#meta+source+num"
    assert data[0] == str(clash.public_id)
    assert next(reader, None) is None


def test_without_hxl_the_second_line_is_data(api_client, clash):
    reader = csv.reader(io.StringIO(body(api_client.get(INCIDENTS, {"hxl": "0"})), newline=""))
    next(reader)
    assert next(reader)[0] == str(clash.public_id)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_free_text_starting_like_a_formula_is_neutralised(api_client, places, start):
    incident = IncidentFactory(region=places["idlib"], title=f'{start}HYPERLINK("http://x")', place_name="-5 km")
    TallyFactory(incident=incident, reported_phrase="=1+1", notes="+note")

    [row] = rows(api_client.get(INCIDENTS))
    [tally] = rows(api_client.get(TALLIES))

    assert row["title"] == f'\'{start}HYPERLINK("http://x")'
    assert row["place_name"] == "'-5 km"
    assert (tally["reported_phrase"], tally["notes"]) == ("'=1+1", "'+note")


def test_numbers_are_not_neutralised(api_client, places):
    IncidentFactory(region=places["idlib"], location_precision="near", latitude=-33.5, longitude=-70.25)

    [row] = rows(api_client.get(INCIDENTS))

    assert (row["latitude"], row["longitude"]) == ("-33.500000", "-70.250000")


def test_filename_names_the_export_its_filters_and_the_date(api_client, clash):
    response = api_client.get(INCIDENTS, {"region": "SY07", "date_from": "2017-07-01", "hxl": "1"})

    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="incidents_date_from-2017-07-01_region-SY07_{today}.csv"'
    )
    body(response)


def test_tally_export_writes_each_figure_with_its_report_source_and_target(api_client, clash, places):
    period = ReportingPeriodFactory(date_start=D(2017, 7, 1), date_end=D(2017, 7, 31), label="July 2017")
    sohr_report = clash.tallies.get(best=40).report
    total = TallyFactory(
        incident=None, region=places["idlib"], reporting_period=period, report=sohr_report, best=120, low=100, high=130
    )

    exported = rows(api_client.get(TALLIES))

    assert [r["tally_id"] for r in exported] == sorted((r["tally_id"] for r in exported), key=int)
    assert len(exported) == 4
    first = exported[0]
    assert {k: first[k] for k in ("source_acronym", "report_url", "target", "incident_id", "region_code")} == {
        "source_acronym": "SOHR",
        "report_url": "https://example.org/sohr/1",
        "target": "incident",
        "incident_id": str(clash.public_id),
        "region_code": "",
    }
    assert (first["low"], first["best"], first["high"], first["reported_phrase"]) == (
        "35",
        "40",
        "45",
        "about 40 killed",
    )
    assert exported[-1] == {
        "tally_id": str(total.pk),
        "source_id": str(sohr_report.source_id),
        "source_name": "Syrian Observatory for Human Rights",
        "source_acronym": "SOHR",
        "report_id": str(sohr_report.pk),
        "report_title": sohr_report.title,
        "report_url": "https://example.org/sohr/1",
        "report_archive_url": "",
        "report_published_on": "2017-07-20",
        "target": "period_total",
        "incident_id": "",
        "incident_status": "",
        "region_code": "SY07",
        "region_name": "Idlib",
        "region_level": "1",
        "period_start": "2017-07-01",
        "period_end": "2017-07-31",
        "period_label": "July 2017",
        "outcome": "killed",
        "status": "civilian",
        "group": "all",
        "low": "100",
        "best": "120",
        "high": "130",
        "qualifier": "exact",
        "reported_phrase": "",
        "is_preferred": "false",
        "notes": "",
        "created_at": total.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": total.updated_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_period_total_export_lists_only_totals_with_their_admin_units(api_client, clash, places):
    period = ReportingPeriodFactory(date_start=D(2017, 7, 19), date_end=D(2017, 7, 20), label="24 hours to 20 July")
    total = TallyFactory(incident=None, region=places["district"], reporting_period=period, best=40)

    [row] = rows(api_client.get(PERIOD_TOTALS))

    assert row["tally_id"] == str(total.pk)
    assert (row["period_start"], row["period_end"], row["period_label"]) == (
        "2017-07-19",
        "2017-07-20",
        total.reporting_period.label,
    )
    assert (row["region_code"], row["region_level"]) == ("SY0700", "2")
    assert (row["country_code"], row["admin1_code"], row["admin1_name"], row["admin2_code"], row["admin3_code"]) == (
        "SYR", "SY07", "Idlib", "SY0700", "",
    )  # fmt: skip
    assert (row["low"], row["best"], row["high"]) == ("40", "40", "40")


def test_anonymous_clients_export_only_the_public_set(api_client, places):
    public = IncidentFactory(region=places["idlib"])
    draft = IncidentFactory(region=places["idlib"], status=ReviewStatus.DRAFT)
    duplicate = IncidentFactory(region=places["idlib"], duplicate_of=public)
    TallyFactory(incident=draft)
    TallyFactory(incident=duplicate)

    assert [r["incident_id"] for r in rows(api_client.get(INCIDENTS))] == [str(public.public_id)]
    assert rows(api_client.get(INCIDENTS, {"status": "draft"})) == []
    assert rows(api_client.get(TALLIES)) == []


def test_data_entry_staff_without_the_export_permission_export_only_the_public_set(api_client, places):
    clerk = user_with_role(DATA_ENTRY)
    IncidentFactory(region=places["idlib"], status=ReviewStatus.DRAFT, created_by=clerk)
    api_client.force_authenticate(clerk)

    assert rows(api_client.get(INCIDENTS, {"status": "draft"})) == []


def test_researchers_export_unpublished_incidents_when_they_ask_for_them(api_client, places):
    public = IncidentFactory(region=places["idlib"])
    draft = IncidentFactory(region=places["idlib"], status=ReviewStatus.DRAFT)
    TallyFactory(incident=draft)
    api_client.force_authenticate(user_with_role(RESEARCHER))

    assert [r["incident_id"] for r in rows(api_client.get(INCIDENTS))] == [str(public.public_id)]
    assert [r["incident_id"] for r in rows(api_client.get(INCIDENTS, {"status": ["draft", "verified"]}))] == [
        str(public.public_id),
        str(draft.public_id),
    ]
    [tally] = rows(api_client.get(TALLIES))
    assert (tally["incident_id"], tally["incident_status"]) == (str(draft.public_id), "draft")


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (INCIDENTS, {"region": "NOWHERE"}, "region"),
        (INCIDENTS, {"date_from": "19/07/2017"}, "date_from"),
        (INCIDENTS, {"status": "published"}, "status"),
        (INCIDENTS, {"regoin": "SY07"}, "regoin"),
        (INCIDENTS, {"hxl": "yes please"}, "hxl"),
        (TALLIES, {"outcome": "dead"}, "outcome"),
        (PERIOD_TOTALS, {"date_to": "July"}, "date_to"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_and_logs_nothing(api_client, places, url, params, field):
    response = api_client.get(url, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert ExportLog.objects.count() == 0


def test_every_export_is_logged_with_its_user_filters_and_rows(api_client, clash):
    researcher = user_with_role(RESEARCHER)
    api_client.force_authenticate(researcher)

    body(api_client.get(INCIDENTS, {"region": "SY07", "status": ["verified", "draft"]}))

    log = ExportLog.objects.get()
    assert (log.user, log.endpoint, log.via, log.status) == (researcher, "incidents", "api", "completed")
    assert log.query == {"region": "SY07", "status": ["verified", "draft"]}
    assert (log.row_count, log.rows_sent) == (1, 1)
    assert log.finished_at >= log.started_at


def test_an_export_the_client_abandons_is_logged_as_cut(api_client, places):
    for _ in range(3):
        IncidentFactory(region=places["idlib"])

    response = api_client.get(INCIDENTS)
    chunks = iter(response.streaming_content)
    next(chunks)  # the header only
    response.close()

    log = ExportLog.objects.get()
    assert (log.user, log.status, log.row_count, log.rows_sent) == (None, "cut", None, 0)
    stated = receipt(api_client, response)
    assert (stated["status"], stated["row_count"], stated["rows_sent"]) == ("cut", None, 0)
    assert log.finished_at is not None


def other_connections_to_the_database() -> int:
    """Open export connections (others, such as a live server's from an earlier test, do not count)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [exports.EXPORT_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def test_an_export_cut_in_the_middle_of_its_rows_is_logged_and_releases_its_connection(api_client, places, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_BYTES", 1)  # one chunk per row
    for _ in range(3):
        IncidentFactory(region=places["idlib"])

    response = api_client.get(INCIDENTS)
    chunks = iter(response.streaming_content)
    header, first_row = next(chunks), next(chunks)
    still_open = other_connections_to_the_database()
    response.close()  # before asserting: a connection left open would block the flush after the test

    assert still_open == 1  # the export's snapshot, open while the download lasted

    assert header.startswith(b"incident_id,")
    assert first_row.count(b"\r\n") == 1
    log = ExportLog.objects.get()
    assert (log.status, log.row_count, log.rows_sent) == ("cut", None, 1)
    assert other_connections_to_the_database() == 0


def test_a_complete_export_releases_its_connection(api_client, clash):
    body(api_client.get(INCIDENTS))

    assert other_connections_to_the_database() == 0
    assert ExportLog.objects.get().status == "completed"


def test_the_tally_export_is_the_period_totals_plus_the_exportable_incidents_figures_filtered_in_both_halves(
    api_client, places
):
    period = ReportingPeriodFactory()
    public = IncidentFactory(region=places["idlib"])
    draft = IncidentFactory(region=places["idlib"], status=ReviewStatus.DRAFT)
    sohr = SourceFactory(acronym="SOHR")
    snhr = SourceFactory(acronym="SNHR")
    total = TallyFactory(incident=None, region=places["idlib"], reporting_period=period, report__source=sohr)
    TallyFactory(incident=None, region=places["aleppo"], reporting_period=period, report__source=snhr)
    public_figure = TallyFactory(incident=public, report__source=sohr)
    TallyFactory(incident=public, report__source=snhr)
    TallyFactory(incident=draft, report__source=sohr)

    response = api_client.get(TALLIES, {"source": "SOHR"})
    assert [r["tally_id"] for r in rows(response)] == sorted([str(total.pk), str(public_figure.pk)], key=int)
    assert receipt_row_count(api_client, response) == 2

    ids_sql, _ = exports.ids_sql(exports.export_tallies(user=AnonymousUser()))
    assert "UNION" not in ids_sql
    assert " IN (SELECT" not in ids_sql  # a condition on each figure's own incident, not a list of incidents


def test_the_receipt_states_the_row_count_once_every_row_has_left(api_client, places):
    IncidentFactory.create_batch(3, region=places["idlib"])

    response = api_client.get(INCIDENTS)
    chunks = iter(response.streaming_content)
    next(chunks)  # the header: the rows are still to come
    while_streaming = receipt(api_client, response)
    rest = b"".join(chunks)

    assert (while_streaming["status"], while_streaming["row_count"]) == ("started", None)
    assert rest.count(b"\r\n") == 3
    stated = receipt(api_client, response)
    assert (stated["export"], stated["status"], stated["row_count"], stated["rows_sent"]) == (
        "incidents",
        "completed",
        3,
        3,
    )
    assert response["Link"] == f'<{response["X-Export-Receipt"]}>; rel="describedby"; type="application/json"'


def test_a_receipt_the_server_did_not_sign_is_not_found(api_client, clash):
    body(api_client.get(INCIDENTS))
    log = ExportLog.objects.get()

    assert api_client.get(f"/api/v1/exports/receipts/{log.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/exports/receipts/{exports.receipt_token(log)}x/").status_code == 404
    assert api_client.get(f"/api/v1/exports/receipts/{exports.receipt_token(log)}/").json()["row_count"] == 1
