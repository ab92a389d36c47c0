"""End to end in headless Chromium: a report becomes a verified incident through the admin."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from casualties.models import Incident
from casualties.roles import DATA_ENTRY, REVIEWER, must_use_two_factor
from casualties.services.two_factor import two_factor_enrol
from sources.models import Report
from tests.factories import IncidentTypeFactory, RegionFactory, SourceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
# Set to a directory to keep screenshots of the key steps (for looking at the pages while developing).
SCREENSHOTS = os.environ.get("BROWSER_SCREENSHOTS")


def staff(role: str, username: str):
    """A staff user of ``role``, enrolled in two-factor authentication where the role needs it."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    if must_use_two_factor(user):
        two_factor_enrol(user=user)
    return user


def app_code(username: str) -> str:
    """What the user's authenticator app shows now, computed from the device's key."""
    device = TOTPDevice.objects.get(user__username=username)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def log_in(page, live_server, username: str) -> None:
    """Through the admin's login form: the password, and the authenticator's code for an enrolled user."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    if TOTPDevice.objects.filter(user__username=username).exists():
        page.fill("#id_otp_token", app_code(username))
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def pick(page, field_id: str, term: str, choice: str) -> None:
    """Choose in an autocomplete (select2) field by typing, as staff do."""
    page.click(f"#{field_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", term)
    page.click(f".select2-results__option:has-text('{choice}')")


def snapshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_data_entry_records_an_incident_from_a_new_report_and_a_reviewer_verifies_it(live_server, new_page):
    country = RegionFactory(code="SYR", name="Syrian Arab Republic")
    RegionFactory(code="SY07", name="Idlib", name_local="إدلب", alternate_names=["Idleb"], parent=country)
    IncidentTypeFactory(code="armed-clash", name="Armed clash")
    SourceFactory(name="Syrian Observatory for Human Rights", acronym="SOHR")
    staff(DATA_ENTRY, "amal")
    assert must_use_two_factor(staff(REVIEWER, "badr"))  # so the reviewer logs in with a one-time code

    page = new_page()
    log_in(page, live_server, "amal")
    page.goto(f"{live_server.url}/admin/casualties/incident/add/")
    page.fill("#id_title", "Clashes between Ahrar al-Sham and HTS across Idlib")
    page.select_option("#id_incident_type", label="Armed clash")
    page.fill("#id_date_start", "2017-07-19")
    page.fill("#id_date_end", "2017-07-20")
    page.select_option("#id_date_precision", "days")
    pick(page, "id_region", "idleb", "Idlib / إدلب (SY07) — Syrian Arab Republic")
    page.fill("#id_place_name", "Ebelin, Hazarin, Marian and Hbeit")
    page.select_option("#id_location_precision", "admin1")

    # The report does not exist yet: add it in the pop-up beside the report field.
    with page.expect_popup() as popup_info:
        page.click("#add_id_tallies-0-report")
    popup = popup_info.value
    popup.wait_for_load_state()
    pick(popup, "id_source", "SOHR", "Syrian Observatory for Human Rights (SOHR)")
    popup.fill("#id_title", "About 40 killed in 24 hours of clashes in Idlib")
    popup.fill("#id_url", "https://www.syriahr.com/en/?p=70000")
    popup.fill("#id_published_on", "2017-07-20")
    popup.click("input[name=_save]")
    # The popup hands the new report to the picker (polled without evaluating a string: the CSP forbids eval).
    expect(page.locator("#id_tallies-0-report")).not_to_have_value("")

    page.select_option("#id_tallies-0-outcome", "killed")
    page.select_option("#id_tallies-0-status", "unknown")
    page.fill("#id_tallies-0-best", "40")
    page.select_option("#id_tallies-0-qualifier", "approximately")
    page.fill("#id_tallies-0-reported_phrase", "about 40 civilians and militants killed")
    snapshot(page, "1-new-incident")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    snapshot(page, "2-saved")
    page.click("button.workflow-submitted")
    page.wait_for_selector(".messagelist .success")

    incident = Incident.objects.get()
    assert incident.status == "submitted"
    assert incident.created_by.username == "amal"
    assert [(t.report.title, t.low, t.best, t.high) for t in incident.tallies.all()] == [
        ("About 40 killed in 24 hours of clashes in Idlib", 40, 40, 40)
    ]
    assert Report.objects.get().source.acronym == "SOHR"

    reviewer = new_page()
    log_in(reviewer, live_server, "badr")
    reviewer.goto(f"{live_server.url}/admin/casualties/incident/{incident.pk}/change/")
    assert re.search(r"Figures from 1 source\(s\) in 1 report\(s\)", reviewer.content())
    reviewer.click("button.workflow-verified")
    reviewer.wait_for_selector(".messagelist .success")
    snapshot(reviewer, "3-verified")

    incident.refresh_from_db()
    assert (incident.status, incident.reviewed_by.username) == ("verified", "badr")
    assert reviewer.inner_text(".review-status") == "Verified"
