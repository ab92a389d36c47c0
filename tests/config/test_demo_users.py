"""`manage.py create_demo_users`: an administrator, a data-entry user and a reviewer for a fresh install, once."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from casualties.roles import DATA_ENTRY, REVIEWER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run_create_demo_users(*args: str) -> str:
    out = StringIO()
    call_command("create_demo_users", *args, stdout=out)
    return out.getvalue()


def passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+password: (\S+)", output, flags=re.MULTILINE))


def test_creates_an_administrator_a_data_entry_user_and_a_reviewer_and_prints_their_passwords():
    output = run_create_demo_users("--url", "http://127.0.0.1:8080/admin/")

    users = {user.username: user for user in get_user_model().objects.all()}
    assert sorted(users) == ["admin", "entry", "reviewer"]
    assert (users["admin"].is_superuser, users["admin"].is_staff) == (True, True)
    assert [g.name for g in users["entry"].groups.all()] == [DATA_ENTRY]
    assert [g.name for g in users["reviewer"].groups.all()] == [REVIEWER]
    assert (users["entry"].is_superuser, users["entry"].is_staff) == (False, True)
    for username, password in passwords(output).items():
        assert users[username].check_password(password)
    assert len(passwords(output)) == 3
    assert "Log in at http://127.0.0.1:8080/admin/" in output


def test_the_demo_reviewer_and_administrator_log_in_with_a_printed_one_time_code(client):
    output = run_create_demo_users()

    codes = dict(re.findall(r"^\s+(\w+)\s+password: .*\n\s+one-time code: any of (\w+)", output, flags=re.MULTILINE))
    assert sorted(codes) == ["admin", "reviewer"]  # data entry logs in with the password alone
    for username, code in codes.items():
        response = client.post(
            "/admin/login/", {"username": username, "password": passwords(output)[username], "otp_token": code}
        )
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
        client.logout()
    assert "otpauth://totp/" in output


def test_run_twice_creates_nothing_the_second_time():
    first = passwords(run_create_demo_users())

    second = run_create_demo_users()

    assert get_user_model().objects.count() == 3
    assert "password" not in second
    assert "no demo users created" in second
    assert get_user_model().objects.get(username="entry").check_password(first["entry"])


def test_creates_nothing_when_any_user_exists():
    UserFactory(username="analyst", is_superuser=False)

    output = run_create_demo_users()

    assert list(get_user_model().objects.values_list("username", flat=True)) == ["analyst"]
    assert "no demo users created" in output
