"""pytest plugin (``-p tests.embedded_database`` in pyproject.toml): the embedded PostgreSQL for the test run when
DATABASE_URL is unset, started before pytest-django loads the settings, and the two database roles: a given
DATABASE_URL without DATABASE_OWNER_URL is the owner, and the service role is created beside it."""

import os

import pytest

from config.database_roles import use_service_role
from config.embedded_db import use_embedded_unless_configured


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    use_embedded_unless_configured()
    if not os.environ.get("DATABASE_OWNER_URL"):
        use_service_role(os.environ["DATABASE_URL"])
