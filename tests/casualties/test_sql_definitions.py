"""The database runs the SQL the code holds: what the migrations installed equals casualties/sql/ today.

A change to a file in casualties/sql/ without a migration that freezes the new text would leave databases
migrated earlier on the old definitions while new ones get the new ones; these tests refuse that.
"""

from pathlib import Path

import pgtrigger
import pytest
from django.db import connection, transaction

from casualties.migrations._sql import FROZEN_DIR, frozen_sql

pytestmark = pytest.mark.django_db

SQL_DIR = Path(__file__).resolve().parents[2] / "casualties" / "sql"

DEFINITIONS = """
    SELECT 'function ' || p.oid::regprocedure::text, pg_get_functiondef(p.oid)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.prokind = 'f'
    UNION ALL
    SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text, pg_get_triggerdef(t.oid)
      FROM pg_trigger t WHERE NOT t.tgisinternal
"""


def _definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(DEFINITIONS)
        return dict(cursor.fetchall())


def _drift(texts: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """The definitions that running ``texts`` on top of the migrated database would change (then undone)."""
    installed = _definitions()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for text in texts:
                cursor.execute(text)
        current = _definitions()
        transaction.set_rollback(True)
    return {
        name: (installed.get(name), current.get(name))
        for name in installed.keys() | current.keys()
        if installed.get(name) != current.get(name)
    }


def test_installed_functions_and_triggers_equal_the_sql_files_of_today(database_owner):
    files = sorted(SQL_DIR.glob("*.sql"))
    assert [f.name for f in files] == [
        "audit.sql",
        "estimates.sql",
        "public_set.sql",
        "report_sync.sql",
        "search.sql",
        "summary.sql",
        "versions.sql",
    ]
    drift = _drift([f.read_text() for f in files])
    assert drift == {}, (
        "These definitions in casualties/sql/ differ from what the migrations install; freeze the new text in "
        f"a new migration (casualties/migrations/_sql.py): {sorted(drift)}"
    )


def test_a_changed_definition_is_seen_as_drift(database_owner):
    text = (SQL_DIR / "estimates.sql").read_text().replace("IF incident_ids IS NULL", "IF incident_ids IS  NULL")
    drift = _drift([text])
    assert list(drift) == ["function casualties_refresh_estimates(bigint[])"]


def test_a_function_the_migrations_never_installed_is_seen_as_drift(database_owner):
    drift = _drift(["CREATE FUNCTION casualties_not_migrated() RETURNS int LANGUAGE sql AS 'SELECT 1'"])
    assert list(drift) == ["function casualties_not_migrated()"]


def test_every_model_trigger_is_installed_as_the_models_define_it():
    statuses = {
        f"{model._meta.db_table}.{trigger.name}": trigger.get_installation_status(model)[0]
        for model, trigger in pgtrigger.registered()
    }
    assert len(statuses) > 40
    assert {name for name, status in statuses.items() if status != "INSTALLED"} == set()


def test_a_frozen_file_edited_after_its_migration_is_refused(tmp_path, monkeypatch):
    name = "0010_summary.sql"
    good = frozen_sql(name, "155c759ef7ec3cb65adf7c50d3a930407dc4e65c7f140cbe2f23d25a763c52f6")
    monkeypatch.setattr("casualties.migrations._sql.FROZEN_DIR", tmp_path)
    (tmp_path / name).write_text(good + "\n-- edited\n")
    with pytest.raises(RuntimeError, match="was edited after its migration was written"):
        frozen_sql(name, "155c759ef7ec3cb65adf7c50d3a930407dc4e65c7f140cbe2f23d25a763c52f6")


def test_every_frozen_file_is_used_by_a_migration():
    migrations_dir = FROZEN_DIR.parent
    used = " ".join(path.read_text() for path in migrations_dir.glob("0*.py"))
    assert [f.name for f in sorted(FROZEN_DIR.glob("*.sql")) if f'"{f.name}"' not in used] == []
