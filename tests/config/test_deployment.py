"""The container files: docker-compose.yml, Dockerfile, the entrypoint and the gunicorn settings.

No Docker engine runs where the suite runs, so these tests read the files the way Docker
would and run their parts (collectstatic, gunicorn, the health probe, the entrypoint)
directly against the suite's PostgreSQL.
"""

import json
import os
import re
import runpy
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import dj_database_url
import gunicorn.config
import psycopg
import pytest
import yaml

from .conftest import PROJECT_DIR, PYTHON

# ${NAME}, ${NAME:-default} and $$ as docker compose interpolates them.
_COMPOSE_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


def compose_file(environ: dict[str, str] | None = None) -> dict:
    """docker-compose.yml after interpolation with the given variables."""

    def interpolate(value):
        if isinstance(value, dict):
            return {key: interpolate(item) for key, item in value.items()}
        if isinstance(value, list):
            return [interpolate(item) for item in value]
        if isinstance(value, str):
            return _COMPOSE_VARIABLE.sub(
                lambda m: "$" if m[0] == "$$" else (environ or {}).get(m["name"]) or m["default"] or "", value
            )
        return value

    return interpolate(yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text()))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (PROJECT_DIR / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [tuple(line.split(None, 1)) for line in joined.splitlines() if line.strip()]


def dockerfile(instruction: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions() if name == instruction]


def collectstatic_build_step() -> tuple[dict[str, str], list[str]]:
    """The environment assignments and the command of the Dockerfile's collectstatic RUN."""
    (run,) = [arguments for arguments in dockerfile("RUN") if "collectstatic" in arguments]
    words = shlex.split(run)
    assignments = [word for word in words if re.match(r"^[A-Z_]+=", word)]
    return dict(word.split("=", 1) for word in assignments), words[len(assignments) :]


def test_compose_starts_the_web_service_only_once_the_database_is_healthy():
    services = compose_file()["services"]

    assert services["web"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])


OVERRIDDEN = {
    "POSTGRES_USER": "ops",
    "POSTGRES_PASSWORD": "s3cret-pass",
    "POSTGRES_DB": "casualty_records",
    "DATABASE_OWNER_USER": "records_owner",
    "DATABASE_OWNER_PASSWORD": "owner-pass",
    "DATABASE_SERVICE_USER": "records_web",
    "DATABASE_SERVICE_PASSWORD": "web-pass",
}


@pytest.mark.parametrize("environ", [{}, OVERRIDDEN], ids=["defaults", "overridden"])
def test_compose_serves_as_the_service_role_and_migrates_as_the_owner_the_database_service_creates(environ):
    services = compose_file(environ)["services"]
    db_env = services["db"]["environment"]
    web_env = services["web"]["environment"]

    service = dj_database_url.parse(web_env["DATABASE_URL"])
    owner = dj_database_url.parse(web_env["DATABASE_OWNER_URL"])

    assert "./docker/initdb:/docker-entrypoint-initdb.d:ro" in services["db"]["volumes"]
    for database, role, default in ((service, "SERVICE", "casualties_service"), (owner, "OWNER", "casualties_owner")):
        assert (database["HOST"], database["PORT"]) == ("db", 5432)
        assert database["USER"] == db_env[f"DATABASE_{role}_USER"] == environ.get(f"DATABASE_{role}_USER", default)
        password = environ.get(f"DATABASE_{role}_PASSWORD", "casualties")
        assert database["PASSWORD"] == db_env[f"DATABASE_{role}_PASSWORD"] == password
        assert database["NAME"] == db_env["POSTGRES_DB"] == environ.get("POSTGRES_DB", "casualties")
    assert db_env["POSTGRES_USER"] not in {service["USER"], owner["USER"]}


def test_compose_database_healthcheck_asks_for_the_configured_user_and_database():
    healthcheck = compose_file()["services"]["db"]["healthcheck"]

    # $$ reaches the container as $, expanded there from the service's own environment.
    assert healthcheck["test"] == ["CMD-SHELL", 'pg_isready -U "${POSTGRES_USER}" -d "${POSTGRES_DB}"']


def test_compose_keeps_the_database_in_a_declared_named_volume():
    compose = compose_file()
    db = compose["services"]["db"]

    volume, target = db["volumes"][0].split(":")

    assert volume in compose["volumes"]
    # postgres images up to 17 keep their cluster here (18 moved it).
    assert re.fullmatch(r"postgres:1[5-7](\D.*)?", db["image"])
    assert target == "/var/lib/postgresql/data"


def test_compose_runs_the_web_service_with_production_settings_and_its_health_probe():
    web = compose_file()["services"]["web"]

    assert web["build"] == "."
    assert web["env_file"] == ".env"
    assert web["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert web["ports"] == ["8000:8000"]
    assert web["healthcheck"]["test"] == ["CMD", "python", "docker/healthcheck.py"]


def test_dockerfile_builds_on_python_311_slim_and_serves_as_an_unprivileged_user():
    assert dockerfile("FROM") == ["python:3.11-slim"]
    user = dockerfile("USER")[-1]

    assert user not in {"root", "0"}
    assert any(re.search(rf"useradd --system .*\b{user}$", run) for run in dockerfile("RUN"))


def test_dockerfile_healthcheck_runs_the_healthz_probe():
    (healthcheck,) = dockerfile("HEALTHCHECK")

    assert healthcheck.endswith('CMD ["python", "docker/healthcheck.py"]')
    assert '"/healthz"' in (PROJECT_DIR / "docker/healthcheck.py").read_text()


def test_dockerfile_starts_gunicorn_with_threaded_workers_through_the_entrypoint(monkeypatch):
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    (entrypoint,) = dockerfile("ENTRYPOINT")
    (cmd,) = dockerfile("CMD")
    command = json.loads(cmd)

    assert json.loads(entrypoint) == ["/app/docker/entrypoint.sh"]
    assert command[0] == "gunicorn"
    assert command[-1] == "config.wsgi:application"
    conf = runpy.run_path(str(PROJECT_DIR / command[command.index("--config") + 1]))
    assert (conf["worker_class"], conf["workers"], conf["threads"], conf["timeout"]) == ("gthread", 2, 4, 120)
    assert conf["bind"] == "0.0.0.0:8000"
    settings_in_file = {name for name in conf if not name.startswith("_") and name not in {"os", "Path"}}
    assert settings_in_file <= set(gunicorn.config.Config().settings), "not gunicorn settings"


def test_dockerfile_collects_static_files_with_build_only_settings():
    environ, command = collectstatic_build_step()

    assert command == ["python", "manage.py", "collectstatic", "--noinput"]
    assert len(environ["DJANGO_SECRET_KEY"]) >= 50
    assert set(environ) == {"DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS"}
    # Build-only values: none of them may be baked into the image's run-time environment.
    assert not any(name in env for env in dockerfile("ENV") for name in environ)


def test_entrypoint_waits_for_the_database_migrates_and_seeds_before_the_server():
    script = PROJECT_DIR / "docker/entrypoint.sh"
    commands = [line.strip() for line in script.read_text().splitlines() if line.strip() and not line.startswith("#")]

    assert os.access(script, os.X_OK)
    assert commands == [
        "set -eu",
        'cd "$(dirname "$0")/.."',
        "python docker/wait_for_db.py",
        "python manage.py migrate --noinput",
        "python manage.py seed",
        "unset DATABASE_OWNER_URL",
        'exec "$@"',
    ]


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    patterns = {
        line.strip()
        for line in (PROJECT_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".env", ".git", ".venv", ".pgdata", "staticfiles"} <= patterns
    # What the image needs must stay in the build context.
    assert not {"requirements.txt", "manage.py", "config", "docker", "seeds", "fixtures"} & patterns


@pytest.mark.slow
def test_collectstatic_succeeds_with_the_dockerfile_build_environment(tmp_path, clean_environ):
    environ, command = collectstatic_build_step()
    (tmp_path / "build_settings.py").write_text(
        f"from config.settings.production import *  # noqa\nSTATIC_ROOT = {str(tmp_path / 'static')!r}\n"
    )
    env = {
        **clean_environ,
        **environ,
        "DJANGO_SETTINGS_MODULE": "build_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT_DIR)]),
    }

    result = subprocess.run([PYTHON, *command[1:]], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "static/staticfiles.json").read_text())["paths"]
    assert "admin/css/base.css" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest


def _run_health_probe(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "docker/healthcheck.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def gunicorn_server(tmp_path, free_port, clean_environ):
    """Start gunicorn as the image does, with production settings and the given DATABASE_URL.

    Returns the environment, for the health probe to run in.
    """
    log_path = tmp_path / "gunicorn.log"
    processes = []

    def start(database_url: str) -> dict[str, str]:
        env = {
            **clean_environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "gunicorn-test-" + "k" * 50,
            "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
            "DATABASE_URL": database_url,
            "PORT": str(free_port),
        }
        with log_path.open("w") as log:
            processes.append(
                subprocess.Popen(
                    [PYTHON, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi:application"],
                    cwd=PROJECT_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 30
        # The master logs this after binding the port, so requests queue from here on.
        while "Booting worker" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        return env

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_health_probe_passes_against_gunicorn_when_the_database_answers(
    gunicorn_server, server_database_url, tmp_path, free_port
):
    env = gunicorn_server(server_database_url("postgres"))

    probe = _run_health_probe(env)

    assert (probe.returncode, probe.stderr) == (0, "")
    assert "Using worker: gthread" in (tmp_path / "gunicorn.log").read_text()
    # Without an allowed Host header the same request is refused: the probe's header matters.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{free_port}/healthz", timeout=5)
    assert refused.value.code == 400


@pytest.mark.slow
def test_health_probe_fails_against_gunicorn_when_the_database_is_down(gunicorn_server, closed_port):
    env = gunicorn_server(f"postgres://postgres@127.0.0.1:{closed_port}/postgres")

    probe = _run_health_probe(env)

    assert probe.returncode == 1
    assert "healthz answered 503" in probe.stderr


def test_wait_for_db_gives_up_on_an_unreachable_database(clean_environ, closed_port):
    env = {
        **clean_environ,
        "DJANGO_SECRET_KEY": "wait-for-db-test-" + "w" * 50,
        "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port}/postgres",
        "DATABASE_WAIT_SECONDS": "1",
    }
    started = time.monotonic()

    result = subprocess.run(
        [PYTHON, "docker/wait_for_db.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert "Database still unreachable after 1s" in result.stderr
    assert time.monotonic() - started < 30


def test_wait_for_db_returns_at_once_when_the_database_answers(clean_environ, server_database_url):
    env = {
        **clean_environ,
        "DJANGO_SECRET_KEY": "wait-for-db-test-" + "w" * 50,
        "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
        "DATABASE_URL": server_database_url("postgres"),
        "DATABASE_WAIT_SECONDS": "0",
    }

    result = subprocess.run(
        [PYTHON, "docker/wait_for_db.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert (result.returncode, result.stderr) == (0, "")


@pytest.fixture
def fresh_database(server_database_url):
    """An empty database on the suite's server with the compose database service's roles (docker/initdb/roles.sh,
    run as the image runs it), all dropped afterwards; yields its owner's and its service role's URLs."""
    name = f"{os.environ.get('TEST_DATABASE_NAME', 'test_casualties')}_entrypoint"
    superuser = dj_database_url.parse(server_database_url(name))
    roles = {"OWNER": f"{name}_owner", "SERVICE": f"{name}_service"}
    with psycopg.connect(server_database_url("postgres"), autocommit=True) as maintenance:
        maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "PGHOST": superuser["HOST"] or superuser["OPTIONS"].get("host", ""),
        "PGPORT": str(superuser["PORT"] or superuser["OPTIONS"].get("port", 5432)),
        "PGPASSWORD": superuser["PASSWORD"] or "",
        "POSTGRES_USER": superuser["USER"],
        "POSTGRES_DB": name,
        **{f"DATABASE_{role}_USER": user for role, user in roles.items()},
        **{f"DATABASE_{role}_PASSWORD": f"{user}-pass" for role, user in roles.items()},
    }
    try:
        subprocess.run(["docker/initdb/roles.sh"], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
        query = urlsplit(server_database_url(name)).query
        yield {role: f"postgres://{user}:{user}-pass@/{name}?{query}" for role, user in roles.items()}
    finally:
        with psycopg.connect(server_database_url("postgres"), autocommit=True) as maintenance:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for user in roles.values():
                maintenance.execute(f'DROP ROLE IF EXISTS "{user}"')


@pytest.mark.slow
def test_entrypoint_migrates_as_the_owner_seeds_then_serves_as_the_service_role_alone(fresh_database, clean_environ):
    env = {
        **clean_environ,
        # The image's `python` is the one with the requirements installed; here, the suite's.
        "PATH": f"{os.path.dirname(PYTHON)}{os.pathsep}{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "entrypoint-test-" + "e" * 50,
        "DJANGO_ALLOWED_HOSTS": "casualties.example.org",
        "DATABASE_URL": fresh_database["SERVICE"],
        "DATABASE_OWNER_URL": fresh_database["OWNER"],
    }

    result = subprocess.run(
        ["docker/entrypoint.sh", "sh", "-c", "echo server started, owner URL: ${DATABASE_OWNER_URL:-none}"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("server started, owner URL: none")
    with psycopg.connect(fresh_database["SERVICE"]) as connection:
        applied = {app for (app,) in connection.execute("SELECT DISTINCT app FROM django_migrations")}
        idlib = connection.execute("SELECT iso_code FROM casualties_region WHERE code = 'SY07'").fetchall()
        owners = connection.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
        super_owner = connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [owners[0][0]]).fetchone()
        may = connection.execute(
            "SELECT has_table_privilege('casualties_incident', 'UPDATE'),"
            " has_table_privilege('casualties_incidentevent', 'INSERT'),"
            " has_table_privilege('casualties_incidentevent', 'UPDATE')"
        ).fetchone()
    assert {"auth", "pghistory", "sources", "casualties"} <= applied
    assert idlib == [("SY-ID",)]
    # The owner, no superuser, migrated everything; the service role writes data and audit events, never alters one.
    assert (owners, super_owner) == ([(dj_database_url.parse(fresh_database["OWNER"])["USER"],)], (False,))
    assert may == (True, True, False)
