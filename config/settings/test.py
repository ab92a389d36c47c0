"""The test suite: the same database engine as production, fast password hashing."""

import dj_database_url

from .base import *  # noqa: F403
from .base import database_url, env

SECRET_KEY = env("DJANGO_SECRET_KEY") or "test-only-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The suite logs in as the owner, which creates and migrates the test database; every test then runs as the
# service role (SET ROLE, tests/conftest.py), and the audit guard's test logs in as it.
_owner = dj_database_url.parse(database_url("owner"))
DATABASES["default"].update({key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")})  # noqa: F405

# Concurrent test runs against one server each need their own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME") or "test_casualties"}  # noqa: F405

# Static files come from the apps' finders, as in development: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The synthetic-data generator (manage.py generate_synthetic) is development tooling: never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405
