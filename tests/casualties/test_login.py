"""The admin login: guessing is locked out per account and per address (django-axes), and reviewers and
administrators give a one-time code as well as the password (django-otp)."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casualties.roles import DATA_ENTRY, REVIEWER, check_two_factor_roles
from casualties.services.two_factor import two_factor_enrol
from tests.casualties.test_api_incidents import token_client
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
WRONG = "Please enter the correct username and password"
LOCKED = "Too many failed logins"


def staff(username: str, role: str | None = None, **kwargs):
    user = UserFactory(username=username, is_staff=True, **kwargs)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def log_in(client, username: str, password: str = PASSWORD, code: str = "", address: str = "192.0.2.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": code, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def app_code(user) -> str:
    """The code the user's authenticator app shows now, computed from the device's key."""
    device = TOTPDevice.objects.get(user=user)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# Lockout


def test_the_nth_wrong_password_locks_the_account_and_then_even_the_right_one_is_refused(client, settings):
    staff("amal", DATA_ENTRY)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = log_in(client, "amal", "guess")
        assert response.status_code == 200
        assert WRONG in response.text

    locking = log_in(client, "amal", "guess")
    right = log_in(client, "amal", PASSWORD)

    assert locking.status_code == 429
    assert right.status_code == 429
    assert LOCKED in right.text
    assert "ask an administrator to unlock" in right.text
    assert not logged_in(client)


def test_guessing_one_account_from_many_addresses_locks_the_account(client, settings):
    staff("amal", DATA_ENTRY)
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "amal", "guess", address=f"198.51.100.{n}")

    response = log_in(client, "amal", PASSWORD, address="203.0.113.50")

    assert response.status_code == 429
    assert not logged_in(client)


def test_guessing_many_accounts_from_one_address_locks_the_address_but_not_the_accounts(client, settings):
    staff("amal", DATA_ENTRY)
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"someone{n}", "guess", address="198.51.100.7")

    from_guesser = log_in(client, "amal", PASSWORD, address="198.51.100.7")
    from_elsewhere = log_in(client, "amal", PASSWORD, address="203.0.113.50")

    assert from_guesser.status_code == 429
    assert from_elsewhere.status_code == 302
    assert logged_in(client)


def test_a_right_password_before_the_limit_starts_the_count_afresh(client, settings):
    staff("amal", DATA_ENTRY)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "amal", "guess")
    assert log_in(client, "amal", PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "amal", "guess")

    assert log_in(client, "amal", PASSWORD).status_code == 302


def test_the_unlock_command_lets_a_locked_account_log_in_again(client, settings):
    staff("amal", DATA_ENTRY)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "amal", "guess")
    assert log_in(client, "amal", PASSWORD).status_code == 429

    out = StringIO()
    call_command("axes_reset_username", "amal", stdout=out)

    assert log_in(client, "amal", PASSWORD).status_code == 302
    assert logged_in(client)


def test_an_administrator_unlocks_an_account_by_deleting_its_access_attempts_in_the_admin(client, settings):
    from axes.models import AccessAttempt

    staff("amal", DATA_ENTRY)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "amal", "guess")
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    attempts = AccessAttempt.objects.filter(username="amal")
    assert attempts.count() == 1
    assert admin.get("/admin/axes/accessattempt/").status_code == 200

    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="amal").exists()
    assert log_in(client, "amal", PASSWORD).status_code == 302


# Two-factor authentication


def test_a_reviewer_logs_in_with_the_password_and_the_code_from_the_authenticator_app(client):
    reviewer = staff("badr", REVIEWER)
    two_factor_enrol(user=reviewer)

    without_code = log_in(client, "badr")
    assert without_code.status_code == 200
    assert "Enter the one-time code from your authenticator app" in without_code.text
    assert not logged_in(client)

    assert log_in(client, "badr", code=app_code(reviewer)).status_code == 302
    assert logged_in(client)


def test_a_wrong_code_is_refused_and_makes_the_next_try_wait(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600  # seconds after the first failure: longer than any test run
    reviewer = staff("badr", REVIEWER)
    two_factor_enrol(user=reviewer)
    wrong = "000000" if app_code(reviewer) != "000000" else "111111"

    refused = log_in(client, "badr", code=wrong)
    then_right = log_in(client, "badr", code=app_code(reviewer))

    assert "That one-time code is wrong" in refused.text
    assert "Verification temporarily disabled because of 1 failed attempt" in then_right.text
    assert not logged_in(client)


def test_a_recovery_code_logs_in_once(client):
    reviewer = staff("badr", REVIEWER)
    code = two_factor_enrol(user=reviewer).recovery_codes[0]

    assert log_in(client, "badr", code=code).status_code == 302
    assert logged_in(client)
    client.logout()

    again = log_in(client, "badr", code=code)
    assert again.status_code == 200
    assert "That one-time code is wrong or was already used" in again.text
    assert StaticToken.objects.filter(device__user=reviewer).count() == 9


@pytest.mark.parametrize("kind", ["reviewer", "administrator"])
def test_a_reviewer_or_administrator_without_an_authenticator_is_told_to_enrol_and_not_let_in(client, kind):
    if kind == "reviewer":
        staff("badr", REVIEWER)
    else:
        staff("badr", is_superuser=True)

    response = log_in(client, "badr")

    assert response.status_code == 200
    assert "no authenticator is set up for this account yet" in response.text
    assert "manage.py enrol_two_factor" in response.text
    assert not logged_in(client)


def test_data_entry_staff_log_in_with_the_password_alone_until_they_enrol(client):
    entry = staff("amal", DATA_ENTRY)
    assert log_in(client, "amal").status_code == 302
    client.logout()

    two_factor_enrol(user=entry)

    assert "Enter the one-time code" in log_in(client, "amal").text
    assert log_in(client, "amal", code=app_code(entry)).status_code == 302


def test_the_setting_decides_which_roles_need_the_second_factor(client, settings):
    settings.OTP_REQUIRED_FOR = ["administrator"]
    staff("badr", REVIEWER)
    assert log_in(client, "badr").status_code == 302

    settings.OTP_REQUIRED_FOR = ["reviewer"]
    assert client.get("/admin/").status_code == 302  # the password-only session no longer admits a reviewer


def test_a_password_only_session_of_a_reviewer_is_anonymous_to_the_api_but_a_token_is_not(client, settings):
    settings.OTP_REQUIRED_FOR = []
    reviewer = staff("badr", REVIEWER)
    IncidentFactory(title="a draft", status="draft")
    log_in(client, "badr")
    assert [row["title"] for row in client.get("/api/v1/incidents/").json()["results"]] == ["a draft"]

    settings.OTP_REQUIRED_FOR = ["reviewer"]

    assert client.get("/api/v1/incidents/").json()["results"] == []
    assert [row["title"] for row in token_client(reviewer).get("/api/v1/incidents/").json()["results"]] == ["a draft"]


def test_an_unknown_role_in_the_setting_fails_the_system_check(settings):
    settings.OTP_REQUIRED_FOR = ["reviewers", "administrator"]

    errors = check_two_factor_roles()

    assert [(e.id, e.msg) for e in errors] == [("casualties.E001", "OTP_REQUIRED_FOR names unknown roles: reviewers.")]


def test_the_enrol_command_prints_a_qr_code_the_url_and_recovery_codes_that_log_in(client):
    reviewer = staff("badr", REVIEWER)
    out = StringIO()

    call_command("enrol_two_factor", "badr", stdout=out)

    output = out.getvalue()
    device = TOTPDevice.objects.get(user=reviewer)
    assert device.config_url in output
    assert device.config_url.startswith("otpauth://totp/Casualty%20database%3Abadr?secret=")
    assert "█" in output  # the QR code, drawn in the terminal
    codes = re.search(r"keep them safe\):\n\s+(.+)$", output).group(1).split()
    assert len(codes) == 10
    assert log_in(client, "badr", code=codes[3]).status_code == 302


def test_enrolling_again_replaces_the_old_key_and_codes():
    reviewer = staff("badr", REVIEWER)
    first = two_factor_enrol(user=reviewer)

    second = two_factor_enrol(user=reviewer)

    assert TOTPDevice.objects.filter(user=reviewer).count() == 1
    assert first.config_url != second.config_url
    assert set(StaticToken.objects.filter(device__user=reviewer).values_list("token", flat=True)) == set(
        second.recovery_codes
    )


def test_the_enrol_command_removes_a_users_devices():
    reviewer = staff("badr", REVIEWER)
    two_factor_enrol(user=reviewer)
    out = StringIO()

    call_command("enrol_two_factor", "badr", "--remove", stdout=out)

    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert "Removed 2 two-factor device(s) of badr. Their role needs it" in out.getvalue()
