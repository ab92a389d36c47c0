"""The demo dataset: a report, its incidents and its period totals, read from ``fixtures/``.

A data file read by this loader rather than a ``loaddata`` fixture: ``loaddata`` saves every object on
every run, and each save of an incident raises its version and writes an audit event, while tallies
have no natural key at all. Here rows are matched on their natural keys and written only when they differ.
"""

import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import models

from casualties.models import Actor, CasualtyTally, Incident, IncidentActor, IncidentType, Region, ReportingPeriod
from casualties.services import write_scope
from sources.models import Report, Source

from .files import pick, read_yaml
from .sync import Key, Row, SeedDataError, SyncResult, recorded_pks, sync_rows

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_idlib_2017_07.yaml"

REPORT_FIELDS = ("title", "url", "external_id", "published_on", "language", "summary")
INCIDENT_FIELDS = (
    "title",
    "description",
    "date_start",
    "date_end",
    "date_precision",
    "place_name",
    "latitude",
    "longitude",
    "location_precision",
    "status",
)
TALLY_FIELDS = ("outcome", "status", "group", "low", "best", "high", "qualifier", "reported_phrase", "notes")
TALLY_KEY = ("report_id", "incident_id", "region_id", "reporting_period_id", "outcome", "status", "group")


def load_demo(*, path: Path) -> list[SyncResult]:
    """Create or update the demo rows, as one write (an incident created with its figures is at version 1); the
    reference data they name must be loaded already."""
    with write_scope():
        return _load_demo(read_yaml(path))


def _load_demo(data: dict) -> list[SyncResult]:
    incidents = [{**data["incident_defaults"], **entry} for entry in data["incidents"]]
    incident_result = sync_incidents(entries=incidents)
    report_result = sync_reports(entries=data["reports"])
    periods = sync_periods(entries=[total for report in data["reports"] for total in report["period_totals"]])
    return [
        report_result,
        incident_result,
        sync_incident_actors(entries=incidents, incident_pks=incident_result.pks),
        periods,
        sync_period_totals(reports=data["reports"], report_pks=report_result.pks, period_pks=periods.pks),
    ]


def sync_incidents(*, entries: list[dict]) -> SyncResult:
    regions = pks_by(model=Region, field="code", values=(e["region"] for e in entries))
    types = pks_by(model=IncidentType, field="code", values=(e["incident_type"] for e in entries))
    rows = [
        {
            "public_id": uuid.UUID(str(entry["public_id"])),
            "region_id": regions[entry["region"]],
            "incident_type_id": types[entry["incident_type"]],
            **pick(
                entry=entry,
                fields=INCIDENT_FIELDS,
                nested=("public_id", "region", "incident_type", "actors"),
            ),
        }
        for entry in entries
    ]
    return sync_rows(label="demo incidents", model=Incident, key=("public_id",), rows=rows, validate=True)


def sync_incident_actors(*, entries: list[dict], incident_pks: dict[Key, int]) -> SyncResult:
    actors = pks_by(model=Actor, field="name", values=(name for e in entries for name in e["actors"].values()))
    rows, missing = [], []
    for entry in entries:
        incident_pk = incident_pks.get((uuid.UUID(str(entry["public_id"])),))
        for role, name in entry["actors"].items():
            if incident_pk is None:
                missing.append(((entry["public_id"], name, role), "its incident is not there"))
            else:
                rows.append({"incident_id": incident_pk, "actor_id": actors[name], "role": role})
    key = ("incident_id", "actor_id", "role")
    result = sync_rows(label="demo incident actors", model=IncidentActor, key=key, rows=rows, validate=True)
    return left_alone(result=result, entries=missing)


def sync_reports(*, entries: list[dict]) -> SyncResult:
    sources = pks_by(model=Source, field="name", values=(e["source"] for e in entries))
    rows = [
        {"source_id": sources[e["source"]], **pick(entry=e, fields=REPORT_FIELDS, nested=("source", "period_totals"))}
        for e in entries
    ]
    return sync_rows(
        label="demo reports",
        model=Report,
        key=("source_id", "url", "external_id", "title"),
        rows=rows,
        existing=Report.objects.filter(title__in=[row["title"] for row in rows]),
        validate=True,
    )


def sync_periods(*, entries: list[dict]) -> SyncResult:
    """The reporting periods the totals cover; one period may serve several totals."""
    rows: dict[Key, Row] = {}
    for entry in entries:
        row = pick(entry=entry["period"], fields=("date_start", "date_end", "label"))
        key = (row["date_start"], row["date_end"])
        if rows.setdefault(key, row) != row:
            raise SeedDataError(f"The period {key} is given two different labels.")
    return sync_rows(
        label="demo reporting periods",
        model=ReportingPeriod,
        key=("date_start", "date_end"),
        rows=list(rows.values()),
        existing=ReportingPeriod.objects.filter(date_start__in=[key[0] for key in rows]),
        validate=True,
    )


def sync_period_totals(*, reports: list[dict], report_pks: dict[Key, int], period_pks: dict[Key, int]) -> SyncResult:
    """Each report's figures for a region over a period; the tally's source copies its report's."""
    sources = pks_by(model=Source, field="name", values=(r["source"] for r in reports))
    regions = pks_by(model=Region, field="code", values=(t["region"] for r in reports for t in r["period_totals"]))
    rows, missing = [], []
    for report in reports:
        source_id = sources[report["source"]]
        report_id = report_pks.get((source_id, report["url"], report["external_id"], report["title"]))
        for total in report["period_totals"]:
            period = total["period"]
            period_id = period_pks.get((period["date_start"], period["date_end"]))
            if report_id is None or period_id is None:
                what = "report" if report_id is None else "reporting period"
                missing.append(((report["title"], total["region"], period["label"]), f"its {what} is not there"))
                continue
            rows.append(
                {
                    "report_id": report_id,
                    "source_id": source_id,
                    "incident_id": None,
                    "region_id": regions[total["region"]],
                    "reporting_period_id": period_id,
                    **pick(entry=total, fields=TALLY_FIELDS, nested=("region", "period")),
                }
            )
    result = sync_rows(label="demo period totals", model=CasualtyTally, key=TALLY_KEY, rows=rows, validate=True)
    return left_alone(result=result, entries=missing)


def left_alone(*, result: SyncResult, entries: list[tuple[Key, str]]) -> SyncResult:
    """Add the entries that could not even be offered to the table, because a row they hang on is missing."""
    for key, reason in entries:
        result.leave_alone(key=key, reason=reason)
    return result


def pks_by(*, model: type[models.Model], field: str, values: Iterable[str]) -> dict[str, int]:
    """Primary keys of the rows the demo names, by the name the reference data gives them; a name not loaded
    stops the load."""
    wanted = set(values)
    found = recorded_pks(model=model, values=wanted)  # what the reference seed wrote, even if renamed since
    unrecorded = wanted - set(found)
    found |= dict(model._default_manager.filter(**{f"{field}__in": unrecorded}).values_list(field, "pk"))
    missing = sorted(wanted - set(found))
    if missing:
        raise SeedDataError(f"The demo data names {model._meta.verbose_name_plural} that are not loaded: {missing}")
    return found
