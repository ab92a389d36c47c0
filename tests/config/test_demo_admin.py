"""`manage.py create_demo_admin`: one administrator for a fresh install, never a second."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.factories import UserFactory


def run_create_demo_admin() -> str:
    out = StringIO()
    call_command("create_demo_admin", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_demo_admin_creates_a_superuser_and_prints_its_password():
    output = run_create_demo_admin()

    admin = get_user_model().objects.get()
    password = re.search(r"password: (\S+)", output)[1]
    assert (admin.username, admin.is_superuser, admin.is_staff) == ("admin", True, True)
    assert admin.check_password(password)
    assert "username: admin" in output


@pytest.mark.django_db
def test_create_demo_admin_run_twice_creates_nothing_the_second_time():
    first = run_create_demo_admin()
    password = re.search(r"password: (\S+)", first)[1]

    second = run_create_demo_admin()

    assert get_user_model().objects.count() == 1
    assert "password" not in second
    assert "no demo administrator created" in second
    assert get_user_model().objects.get().check_password(password)


@pytest.mark.django_db
def test_create_demo_admin_creates_nothing_when_any_user_exists():
    UserFactory(username="analyst", is_superuser=False)

    output = run_create_demo_admin()

    assert list(get_user_model().objects.values_list("username", flat=True)) == ["analyst"]
    assert "no demo administrator created" in output
