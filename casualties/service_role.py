"""What the service's own database role may do (config/database_roles.py): read and write the data and add audit
events, but never change or remove one. The owner grants it after every migrate, so new tables are covered."""

from __future__ import annotations

from django.apps import apps
from django.db import connections


def audit_event_tables() -> list[str]:
    """The tables of the audit events of this project's models, append-only (casualties/sql/audit.sql)."""
    return [
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in ("casualties", "sources")
        and model._meta.managed
        and any(field.name == "pgh_created_at" for field in model._meta.fields)
    ]


def service_role_grant(*, role: str, using: str = "default") -> None:
    """Grant ``role`` SELECT, INSERT, UPDATE and DELETE on every table of the schema, except: audit events and
    the migration record are SELECT and INSERT only (the events' contexts are upserted, never deleted), views are
    SELECT only; sequences are USAGE and SELECT. Nothing to do when connected as ``role`` itself (single-role
    set-ups, a test flush)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        user, schema = cursor.fetchone()
        if not role or role == user:
            return
        cursor.execute(
            "SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind IN ('v', 'm')"
        )
        views = [name for name, _ in cursor.fetchall()]
        append_only = [*audit_event_tables(), "django_migrations"]
        role, schema = quote(role), quote(schema)
        statements = [
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(table)} FROM {role}" for table in append_only),
            f"REVOKE DELETE, TRUNCATE ON pghistory_context FROM {role}",
            *(f"REVOKE INSERT, UPDATE, DELETE ON {quote(view)} FROM {role}" for view in views),
        ]
        cursor.execute("; ".join(statements))
