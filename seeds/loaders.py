"""Loading the reference data of ``seeds/data/`` (and, on request, the demo dataset) into the database.

Every loader is idempotent: a second run writes nothing, and a run after a data file was edited
updates exactly the rows that changed. Removing an entry from a data file does not delete its row,
which casualty records may reference; retire it in the admin instead.
"""

from pathlib import Path

import pghistory
from django.db import transaction

from casualties.models import Actor, ActorName, IncidentType
from sources.models import Source

from .demo import DEMO_FILE, load_demo
from .files import DATA_DIR, pick, read_yaml
from .gazetteer import load_regions
from .sync import SyncResult, sync_rows

SOURCE_FIELDS = ("name", "acronym", "kind", "country", "website", "description")
ACTOR_FIELDS = ("name", "acronym", "kind", "country", "description")
ACTOR_NAME_FIELDS = ("name", "acronym", "valid_from", "valid_to")
INCIDENT_TYPE_FIELDS = ("code", "name", "description", "sort_order")


@transaction.atomic
def seed(*, demo: bool = False, data_dir: Path = DATA_DIR, demo_file: Path = DEMO_FILE) -> list[SyncResult]:
    """Load all reference data, and the demo dataset if asked, in one transaction; what each step did."""
    with pghistory.context(command="seed", demo=demo):
        results = [
            *load_regions(data_dir=data_dir),
            load_sources(data_dir=data_dir),
            *load_actors(data_dir=data_dir),
            load_incident_types(data_dir=data_dir),
        ]
        if demo:
            results += load_demo(path=demo_file)
    return results


def load_sources(*, data_dir: Path) -> SyncResult:
    """The sources registry. Reliability grades are a reviewer's judgement and are never seeded."""
    rows = [pick(entry=entry, fields=SOURCE_FIELDS) for entry in read_yaml(data_dir / "sources.yaml")]
    return sync_rows(label="sources", model=Source, key=("name",), rows=rows, validate=True)


def load_actors(*, data_dir: Path) -> list[SyncResult]:
    """Actors under their current names, then the other names each went by."""
    entries = read_yaml(data_dir / "actors.yaml")
    actors = sync_rows(
        label="actors",
        model=Actor,
        key=("name",),
        rows=[pick(entry=entry, fields=ACTOR_FIELDS, nested=("names",)) for entry in entries],
        validate=True,
    )
    names = [
        {"actor_id": actors.pks[(entry["name"],)], **pick(entry=former, fields=ACTOR_NAME_FIELDS)}
        for entry in entries
        for former in entry.get("names") or []
    ]
    return [
        actors,
        sync_rows(label="actor names", model=ActorName, key=("actor_id", "name"), rows=names, validate=True),
    ]


def load_incident_types(*, data_dir: Path) -> SyncResult:
    rows = [pick(entry=entry, fields=INCIDENT_TYPE_FIELDS) for entry in read_yaml(data_dir / "incident_types.yaml")]
    return sync_rows(label="incident types", model=IncidentType, key=("code",), rows=rows, validate=True)
