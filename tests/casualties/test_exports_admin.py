"""The admin: "Export CSV" streams the incident list's current filter; the export log is for administrators."""

import csv
import io

import pytest
from django.contrib.auth.models import Group

from casualties.choices import ReviewStatus
from casualties.models import ExportLog
from casualties.roles import DATA_ENTRY, RESEARCHER
from tests.exports import receipt_row_count
from tests.factories import IncidentFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/casualties/incident/"
EXPORT = "/admin/casualties/incident/export-csv/"


def staff_with_role(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_researchers_see_the_export_link_carrying_the_current_filter(client):
    client.force_login(staff_with_role(RESEARCHER))

    response = client.get(CHANGELIST, {"status__exact": "draft"})

    assert response.status_code == 200
    assert f'href="{EXPORT}?status__exact=draft"' in response.content.decode()


def test_data_entry_staff_see_no_export_link_and_cannot_export(client):
    client.force_login(staff_with_role(DATA_ENTRY))

    assert "Export CSV" not in client.get(CHANGELIST).content.decode()
    assert client.get(EXPORT).status_code == 403
    assert ExportLog.objects.count() == 0


def test_admin_export_streams_exactly_the_filtered_change_list(client):
    syria = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    draft = IncidentFactory(title="Shelling of Maarata", region=idlib, status=ReviewStatus.DRAFT)
    IncidentFactory(title="Shelling of Hbeit", region=idlib, status=ReviewStatus.VERIFIED)
    IncidentFactory(title="Clashes in Maarata", region=idlib, status=ReviewStatus.VERIFIED)
    merged = IncidentFactory(title="Shelling of Maarata again", region=idlib, status=ReviewStatus.DRAFT)
    merged.duplicate_of = draft
    merged.save()
    researcher = staff_with_role(RESEARCHER)
    client.force_login(researcher)

    response = client.get(EXPORT, {"status__exact": "draft", "q": "shelling"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="incidents_q-shelling_status__exact-draft_')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert [(r["incident_id"], r["title"], r["status"]) for r in rows] == [
        (str(draft.public_id), "Shelling of Maarata", "draft")
    ]
    assert receipt_row_count(client, response) == 1
    log = ExportLog.objects.get()
    assert (log.user, log.via, log.endpoint, log.status, log.rows_sent) == (
        researcher,
        "admin",
        "incidents",
        "completed",
        1,
    )
    assert log.query == {"status__exact": "draft", "q": "shelling"}


def test_a_bad_change_list_filter_exports_nothing(client):
    client.force_login(staff_with_role(RESEARCHER))

    response = client.get(EXPORT, {"date_start__gte": "not a date"})

    assert response.status_code == 302
    assert ExportLog.objects.count() == 0


def test_only_administrators_see_the_export_log(client):
    ExportLog.objects.create(endpoint="incidents", row_count=3, rows_sent=3, status="completed")
    client.force_login(staff_with_role(RESEARCHER))
    assert client.get("/admin/casualties/exportlog/").status_code == 403

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/casualties/exportlog/")
    assert response.status_code == 200
    assert "completed" in response.content.decode().lower()
    assert client.get("/admin/casualties/exportlog/add/").status_code == 403
