"""pytest plugin (``-p tests.embedded_database`` in pyproject.toml): the embedded PostgreSQL for the test run when
DATABASE_URL is unset, started before pytest-django loads the settings."""

import pytest

from config.embedded_db import use_embedded_unless_configured


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    use_embedded_unless_configured()
