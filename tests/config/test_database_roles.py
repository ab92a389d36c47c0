"""Which database role each process connects as (config/database_roles.py, config/settings/base.py)."""

import os

import dj_database_url
import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.database_roles import OWNER_COMMANDS, SERVICE_ROLE, use_owner_for_owner_commands, use_service_role
from config.settings.base import database_url

SERVICE_URL = "postgres://web:web-pass@db:5432/casualties"
OWNER_URL = "postgres://owner:owner-pass@db:5432/casualties"


@pytest.fixture
def two_roles(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", SERVICE_URL)
    monkeypatch.setenv("DATABASE_OWNER_URL", OWNER_URL)
    monkeypatch.delenv("DATABASE_ROLE", raising=False)


@pytest.mark.parametrize("command", sorted(OWNER_COMMANDS))
def test_the_owner_only_commands_connect_as_the_owner(two_roles, command):
    use_owner_for_owner_commands(["manage.py", command, "--noinput"])

    assert database_url(os.environ["DATABASE_ROLE"]) == OWNER_URL


@pytest.mark.parametrize("command", ["runserver", "seed", "create_demo_users", "createsuperuser", "shell", "flush"])
def test_every_other_command_connects_as_the_service_role(two_roles, command):
    use_owner_for_owner_commands(["manage.py", command])

    assert "DATABASE_ROLE" not in os.environ
    assert database_url() == SERVICE_URL


def test_without_an_owner_url_one_role_does_everything(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", SERVICE_URL)
    monkeypatch.delenv("DATABASE_OWNER_URL", raising=False)
    monkeypatch.delenv("DATABASE_ROLE", raising=False)

    use_owner_for_owner_commands(["manage.py", "migrate"])

    assert database_url(os.environ.get("DATABASE_ROLE", "service")) == database_url("owner") == SERVICE_URL


def test_development_creates_the_service_role_beside_the_owner_and_connects_as_it(monkeypatch, server_database_url):
    owner_url = server_database_url("postgres")
    monkeypatch.setenv("DATABASE_URL", "unused")
    monkeypatch.setenv("DATABASE_OWNER_URL", "unused")

    use_service_role(owner_url)
    use_service_role(owner_url)  # again, as each process that starts does

    service, owner = dj_database_url.parse(os.environ["DATABASE_URL"]), dj_database_url.parse(owner_url)
    assert os.environ["DATABASE_OWNER_URL"] == owner_url
    assert service == {**owner, "USER": SERVICE_ROLE}
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        assert connection.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (
            SERVICE_ROLE,
            False,
        )


def test_an_owner_of_another_database_is_refused(two_roles, monkeypatch):
    monkeypatch.setenv("DATABASE_OWNER_URL", "postgres://owner:owner-pass@db:5432/postgres")

    with pytest.raises(ImproperlyConfigured, match="DATABASE_OWNER_URL must name the same database as DATABASE_URL"):
        database_url("owner")
