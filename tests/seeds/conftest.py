import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, transaction
from pghistory.models import Events

from seeds.files import DATA_DIR
from seeds.loaders import seed

Snapshot = dict[str, int]

# The seed's own bookkeeping (seeds_seedrecord) is counted apart from the tables it loads.
TUPLES_WRITTEN = """
SELECT coalesce(sum(n_tup_ins) FILTER (WHERE relname <> 'seeds_seedrecord'), 0),
       coalesce(sum(n_tup_upd) FILTER (WHERE relname <> 'seeds_seedrecord'), 0),
       coalesce(sum(n_tup_del) FILTER (WHERE relname <> 'seeds_seedrecord'), 0),
       coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del) FILTER (WHERE relname = 'seeds_seedrecord'), 0)
  FROM pg_stat_xact_user_tables
"""


@pytest.fixture(scope="module")
def seeded_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The reference data and the demo, loaded once for a module of read-only tests and rolled back after it.

    Each test's own transaction nests inside this one as a savepoint, as Django's TestCase does for
    setUpTestData, so a test sees the seeded rows and its changes are undone.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            seed(demo=True)
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A scratch copy of seeds/data that a test may edit."""
    return Path(shutil.copytree(DATA_DIR, tmp_path / "data"))


@pytest.fixture
def database_state() -> Callable[[], Snapshot]:
    """A function returning what the seed could have written: rows per model, audit events, tuples written
    (the seed's records of its rows apart).

    Tuples written come from pg_stat_xact_user_tables, PostgreSQL's own count of the rows this transaction
    inserted, updated or deleted in every table, so an UPDATE that changes nothing still shows.
    """

    def snapshot() -> Snapshot:
        counts = {
            model._meta.label: model._default_manager.count()
            for app in ("sources", "casualties")
            for model in apps.get_app_config(app).get_models()
        }
        with connection.cursor() as cursor:
            cursor.execute(TUPLES_WRITTEN)
            inserted, updated, deleted, records = cursor.fetchone()
        return {
            **counts,
            "audit events": Events.objects.count(),
            "tuples inserted": inserted,
            "tuples updated": updated,
            "tuples deleted": deleted,
            "seed records written": records,
        }

    return snapshot
