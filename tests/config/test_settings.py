"""Production settings refuse an unsafe configuration and pass Django's deployment checks."""

import secrets
import subprocess

import pytest

from .conftest import PROJECT_DIR, PYTHON

SAFE = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
}
SECRET_KEY_REFUSED = "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters."
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
)


def run_python(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, *args], cwd=PROJECT_DIR, env=environ, capture_output=True, text=True, timeout=120)


def production_environ(clean_environ: dict[str, str], **changes: str | None) -> dict[str, str]:
    """The safe production environment with some variables changed (a value) or removed (None)."""
    environ = {**clean_environ, **SAFE, **changes}
    return {name: value for name, value in environ.items() if value is not None}


def test_production_settings_load_with_a_complete_configuration(clean_environ):
    result = run_python(production_environ(clean_environ), "-c", PRINT_SETTINGS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "False ['casualties.example.org'] True True True"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, SECRET_KEY_REFUSED),
        ({"DJANGO_SECRET_KEY": ""}, SECRET_KEY_REFUSED),
        ({"DJANGO_SECRET_KEY": secrets.token_urlsafe(64)[:49]}, SECRET_KEY_REFUSED),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(64)}, SECRET_KEY_REFUSED),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off in production"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG must be true or false"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set in production"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS must list the host names"),
        ({"DJANGO_ALLOWED_HOSTS": " , "}, "DJANGO_ALLOWED_HOSTS must list the host names"),
    ],
    ids=[
        "no-secret-key",
        "empty-secret-key",
        "short-secret-key",
        "django-insecure-key",
        "debug-on",
        "debug-unreadable",
        "no-database-url",
        "no-allowed-hosts",
        "blank-allowed-hosts",
    ],
)
def test_production_settings_refuse_an_unsafe_configuration(clean_environ, changes, message):
    result = run_python(production_environ(clean_environ, **changes), "-c", "import django; django.setup()")

    assert result.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr


def test_production_without_database_url_does_not_start_the_embedded_server(clean_environ, tmp_path):
    environ = production_environ(clean_environ, DATABASE_URL=None, EMBEDDED_PGDATA=str(tmp_path / "pgdata"))

    result = run_python(environ, "-c", "import django; django.setup()")

    assert result.returncode == 1
    assert not (tmp_path / "pgdata").exists()


def test_production_settings_pass_the_deployment_checks_without_warnings(clean_environ):
    result = run_python(production_environ(clean_environ), "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_deployment_checks_fail_when_https_redirect_is_turned_off(clean_environ):
    environ = production_environ(clean_environ, DJANGO_SECURE_SSL_REDIRECT="false")

    result = run_python(environ, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 1
    assert "security.W008" in result.stderr


@pytest.mark.parametrize("module", ["config.settings.local", "config.settings.test"])
def test_importing_the_development_settings_never_starts_a_database_server(clean_environ, tmp_path, module):
    environ = {**clean_environ, "DJANGO_SETTINGS_MODULE": module, "EMBEDDED_PGDATA": str(tmp_path / "pgdata")}

    result = run_python(environ, "-c", "import django; django.setup()")

    assert result.returncode == 1
    assert "ImproperlyConfigured: DATABASE_URL is not set. Run through manage.py, make or pytest" in result.stderr
    assert not (tmp_path / "pgdata").exists()
