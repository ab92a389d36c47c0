"""The test suite: the same database engine as production, fast password hashing."""

import dj_database_url

from core.database import connection_options

from .base import *  # noqa: F403
from .base import DATABASE_CONNECT_TIMEOUT, DATABASE_TIMEOUTS, DATABASES, database_url, env

SECRET_KEY = env("DJANGO_SECRET_KEY") or "test-only-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The suite builds its data in-process, up to hundreds of thousands of rows in one statement on a shared machine:
# the command role's limits (none). The tests of the limits give requests the web role's (test_database_limits.py).
DATABASE_LIMITS = "command"
DATABASES["default"]["OPTIONS"] |= connection_options(
    DATABASE_TIMEOUTS["command"],
    connect_timeout=DATABASE_CONNECT_TIMEOUT,
    options=DATABASES["default"]["OPTIONS"]["options"],
)

# The suite logs in as the owner, which creates and migrates the test database; every test then runs as the
# service role (SET ROLE, tests/conftest.py), and the audit guard's test logs in as it.
_owner = dj_database_url.parse(database_url("owner"))
DATABASES["default"].update({key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")})

# Concurrent test runs against one server each need their own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME") or "test_casualties"}
# A hot standby receives the test database from the primary by replication: never created on it.
if "replica" in DATABASES:
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}

# Static files come from the apps' finders, as in development: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The synthetic-data generator (manage.py generate_synthetic) is development tooling: never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405
