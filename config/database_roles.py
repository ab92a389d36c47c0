"""The service's two PostgreSQL roles (README, "Database roles").

- The owner (``DATABASE_OWNER_URL``) owns the schema: ``manage.py migrate`` and the other commands of
  ``OWNER_COMMANDS`` connect as it.
- The service role (``DATABASE_URL``) is what the web process and every other command connect as. It reads and
  writes the data and adds audit events through the triggers, but owns nothing and is no superuser: it cannot
  change, delete or truncate an audit event, drop or disable a trigger, or set ``session_replication_role``.
  Each migrate grants it its privileges (casualties/service_role.py).

Without ``DATABASE_OWNER_URL`` one role does both (a deployment not yet split). In development and in the test
suite the server's superuser is the owner and ``SERVICE_ROLE`` is created on it (``use_service_role``).
"""

from __future__ import annotations

import contextlib
import os
from urllib.parse import urlsplit, urlunsplit

# Commands that need the owner: the schema, and bulk loads and repairs that switch triggers off or truncate.
OWNER_COMMANDS = frozenset({"migrate", "rebuild_estimates", "generate_synthetic"})

# The service role that development and the test suite create on their server.
SERVICE_ROLE = "casualties_service"


def use_owner_role() -> None:
    """Connect this process (and those it starts) as the owner: the settings then read DATABASE_OWNER_URL."""
    if os.environ.get("DATABASE_OWNER_URL"):
        os.environ["DATABASE_ROLE"] = "owner"


def use_owner_for_owner_commands(argv: list[str]) -> None:
    """manage.py: the commands of OWNER_COMMANDS connect as the owner, every other one as the service role."""
    if len(argv) > 1 and argv[1] in OWNER_COMMANDS:
        use_owner_role()


def use_service_role(owner_url: str) -> None:
    """Development and tests: with ``owner_url`` (a role allowed to create roles) as the owner, create the service
    role on its server, or bring it back to no more than a login, and point DATABASE_URL at it."""
    import psycopg
    from psycopg import errors, sql

    parts = urlsplit(owner_url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    _, colon, password = userinfo.partition(":")
    role = sql.Identifier(SERVICE_ROLE)
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT")
    with psycopg.connect(owner_url, autocommit=True) as connection:
        (more_than_a_login,) = connection.execute(
            "SELECT bool_or(rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls OR rolinherit"
            " OR NOT rolcanlogin) FROM pg_roles WHERE rolname = %s",
            [SERVICE_ROLE],
        ).fetchone()
        if more_than_a_login is None:
            # The owner's password, if it has one, so that the role logs in wherever the owner does.
            create = sql.SQL("CREATE ROLE {} {} PASSWORD {}").format(
                role, attributes, sql.Literal(connection.info.password or None)
            )
            # Another process may create it at the same time.
            with contextlib.suppress(errors.DuplicateObject, errors.UniqueViolation):
                connection.execute(create)
        elif more_than_a_login:
            connection.execute(sql.SQL("ALTER ROLE {} {}").format(role, attributes))
    netloc = f"{SERVICE_ROLE}{colon}{password}@{hostport}"
    os.environ["DATABASE_OWNER_URL"] = owner_url
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(netloc=netloc))
