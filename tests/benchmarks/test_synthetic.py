"""Synthetic data for benchmarks: deterministic, sound by every invariant, and removable without a trace."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from benchmarks.synthetic import (
    CHECKS,
    SUMMARY_CHECK,
    SyntheticDataError,
    synthetic_check,
    synthetic_count,
    synthetic_delete,
    synthetic_generate,
)
from casualties.choices import CasualtyGroup, CasualtyStatus, Outcome, ReviewStatus
from casualties.models import (
    CasualtyTally,
    Estimate,
    Incident,
    IncidentActor,
    Region,
    ReportingPeriod,
    SummaryCell,
)
from casualties.services import estimates_rebuild
from sources.choices import SourceKind
from sources.models import Report
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    RegionFactory,
    ReportingPeriodFactory,
    SourceFactory,
    TallyFactory,
)

# The synthetic loader switches the triggers off: an owner-only command (config/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_owner")]

INCIDENTS = 300


@pytest.fixture
def world() -> None:
    """A small gazetteer at every level (a theatre country down to a community, and a province abroad),
    sources, actors and incident types."""
    syria = RegionFactory(code="SYR", name="Syria")
    idlib = RegionFactory(code="SY07", name="Idlib", parent=syria)
    RegionFactory(code="SY02", name="Aleppo", parent=syria)
    district = RegionFactory(code="SY0700", name="Idlib district", parent=idlib)
    subdistrict = RegionFactory(code="SY070003", name="Saraqib", parent=district)
    RegionFactory(code="C1007", name="Saraqib town", parent=subdistrict)
    RegionFactory(code="TR-31", name="Hatay", parent=RegionFactory(code="TUR", name="Türkiye"))
    for name in ("SOHR", "SNHR", "VDC"):
        SourceFactory(name=name, kind=SourceKind.MONITORING_GROUP)
    SourceFactory(name="Agency", kind=SourceKind.NEWS_MEDIA)
    for name in ("Group A", "Group B", "Group C"):
        ActorFactory(name=name)
    IncidentTypeFactory(code="armed-clash", name="Armed clash")
    IncidentTypeFactory(code="airstrike", name="Airstrike")


def snapshot() -> dict[str, list[tuple]]:
    """Every synthetic row by its content, database ids replaced by what they point at."""
    queries = {
        "incidents": """
            SELECT i.public_id, i.title, i.date_start, i.date_end, i.date_precision, g.code, i.place_name,
                   i.latitude, i.longitude, i.location_precision, k.code, i.status, d.public_id, i.external_id,
                   i.reviewed_at, i.created_at
              FROM casualties_incident i JOIN casualties_region g ON g.id = i.region_id
              JOIN casualties_incidenttype k ON k.id = i.incident_type_id
              LEFT JOIN casualties_incident d ON d.id = i.duplicate_of_id
             ORDER BY i.public_id""",
        "tallies": """
            SELECT i.public_id, g.code, p.date_start, p.date_end, r.external_id, s.name, t.outcome, t.status,
                   t.casualty_group, t.low, t.best, t.high, t.qualifier, t.reported_phrase, t.is_preferred
              FROM casualties_casualtytally t JOIN sources_report r ON r.id = t.report_id
              JOIN sources_source s ON s.id = t.source_id
              LEFT JOIN casualties_incident i ON i.id = t.incident_id
              LEFT JOIN casualties_region g ON g.id = t.region_id
              LEFT JOIN casualties_reportingperiod p ON p.id = t.reporting_period_id
             ORDER BY 1, 2, 3, 5, 7, 8, 9""",
        "reports": """
            SELECT r.external_id, r.title, r.url, r.published_on, s.name
              FROM sources_report r JOIN sources_source s ON s.id = r.source_id ORDER BY 1""",
        "actors": """
            SELECT i.public_id, a.name, x.role FROM casualties_incidentactor x
              JOIN casualties_incident i ON i.id = x.incident_id JOIN casualties_actor a ON a.id = x.actor_id
             ORDER BY 1, 2, 3""",
    }
    rows = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            rows[name] = cursor.fetchall()
    return rows


def estimates() -> set[tuple]:
    return set(
        Estimate.objects.values_list(
            "incident_id", "outcome", "status", "group", "low", "best", "high", "source_count", "best_tally_id"
        )
    )


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(world):
    synthetic_generate(incidents=INCIDENTS, seed=7)
    first = snapshot()
    synthetic_delete()
    synthetic_generate(incidents=INCIDENTS, seed=7)
    assert snapshot() == first
    synthetic_delete()
    synthetic_generate(incidents=INCIDENTS, seed=8)
    other = snapshot()
    assert other["incidents"] != first["incidents"]
    assert other["tallies"] != first["tallies"]
    assert len(first["incidents"]) == INCIDENTS


def test_chunking_and_index_rebuilding_do_not_change_the_rows(world):
    synthetic_generate(incidents=INCIDENTS, seed=3)
    plain = snapshot()
    synthetic_delete()
    synthetic_generate(incidents=INCIDENTS, seed=3, chunk=70, rebuild_indexes=True)
    assert snapshot() == plain
    assert all(count == 0 for count in synthetic_check().values())


def test_every_invariant_holds_after_generation(world):
    result = synthetic_generate(incidents=INCIDENTS, seed=1)
    assert result.checks == dict.fromkeys(CHECKS, 0)
    assert synthetic_check() == dict.fromkeys({**CHECKS, **SUMMARY_CHECK}, 0)
    assert SummaryCell.objects.filter(figure="").aggregate(
        n=Sum("incidents"), grains=Count("grain", distinct=True)
    ) == {
        "n": 3 * Incident.objects.filter(status=ReviewStatus.VERIFIED, duplicate_of__isnull=True).count(),
        "grains": 3,
    }
    assert result.incidents == Incident.objects.count() == INCIDENTS
    assert result.tallies == CasualtyTally.objects.count()
    assert result.period_totals == CasualtyTally.objects.filter(region__isnull=False).count() > 0
    assert result.reports == Report.objects.count()


def test_the_checks_count_a_broken_invariant(world):
    synthetic_generate(incidents=INCIDENTS, seed=1)
    tally = CasualtyTally.objects.filter(group=CasualtyGroup.ALL, incident__isnull=False, best__gt=0).first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # as a careless bulk load would
        cursor.execute(
            "INSERT INTO casualties_casualtytally (report_id, source_id, incident_id, outcome, status, casualty_group,"
            " low, best, high, qualifier, reported_phrase, is_preferred, notes, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, 'children', %s, %s, %s, 'exact', '', false, '', now(), now())",
            [tally.report_id, tally.source_id, tally.incident_id, tally.outcome, tally.status] + [tally.high + 1] * 3,
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    counts = synthetic_check()
    assert counts["of-which figure within the all figure"] == 1
    # The new tally has no estimate yet, which is counted too.
    assert counts["estimates: one per figure key, low and high and sources from the tallies"] == 1
    assert sum(counts.values()) == 2


def test_the_checks_count_summary_cells_that_drifted_and_the_rebuild_command_repairs_them(world):
    synthetic_generate(incidents=INCIDENTS, seed=1)
    counted = Incident.objects.filter(status=ReviewStatus.VERIFIED, duplicate_of__isnull=True).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no trigger moves its summary cells
        cursor.execute(
            "UPDATE casualties_incident SET date_start = date_start - 400, date_end = date_end - 400 WHERE id = %s",
            [counted.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    counts = synthetic_check()
    name = next(iter(SUMMARY_CHECK))
    # Its count and figures are in the wrong day, week and month cells, and missing from the right ones.
    assert counts[name] >= 6
    assert sum(counts.values()) == counts[name]
    call_command("rebuild_estimates", stdout=io.StringIO())
    assert synthetic_check()[name] == 0


def test_estimates_equal_a_rebuild_from_scratch(world):
    synthetic_generate(incidents=INCIDENTS, seed=2)
    loaded = estimates()
    assert len(loaded) > INCIDENTS
    estimates_rebuild()
    assert estimates() == loaded


def test_figures_cover_outcomes_statuses_groups_and_every_review_status(world):
    synthetic_generate(incidents=INCIDENTS, seed=1)
    assert set(Incident.objects.values_list("status", flat=True)) == set(ReviewStatus.values)
    tallies = CasualtyTally.objects.filter(incident__isnull=False)
    assert set(tallies.values_list("outcome", flat=True)) == set(Outcome.values)
    assert set(tallies.values_list("status", flat=True)) == set(CasualtyStatus.values)
    assert {CasualtyGroup.ALL, CasualtyGroup.CHILDREN, CasualtyGroup.WOMEN} <= set(
        tallies.values_list("group", flat=True)
    )
    reports_per_incident = {count for count in _reports_per_incident()}
    assert reports_per_incident == {1, 2, 3, 4}
    period_sources = set(CasualtyTally.objects.filter(region__isnull=False).values_list("source__name", flat=True))
    assert period_sources == {"SNHR", "SOHR", "VDC"}
    assert set(Incident.objects.values_list("region__level", flat=True)) == {0, 1, 2, 3, 4}
    assert IncidentActor.objects.count() > 0


def _reports_per_incident() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT report_id) FROM casualties_casualtytally WHERE incident_id IS NOT NULL"
            " GROUP BY incident_id"
        )
        return [row[0] for row in cursor.fetchall()]


def test_dates_fall_between_2011_and_today(world):
    synthetic_generate(incidents=INCIDENTS, seed=1)
    today = timezone.now().date()
    starts = Incident.objects.values_list("date_start", flat=True)
    ends = Incident.objects.values_list("date_end", flat=True)
    assert min(starts) >= datetime.date(2011, 1, 1)
    assert max(ends) <= today
    assert max(Report.objects.values_list("published_on", flat=True)) <= today
    assert max(ReportingPeriod.objects.values_list("date_end", flat=True)) < today
    assert len({start.year for start in starts}) >= 10


def test_delete_removes_exactly_the_synthetic_rows(world):
    real = TallyFactory(best=5, report__source__name="Real source")
    real_total = TallyFactory(
        incident=None,
        region=Region.objects.get(code="SY07"),
        reporting_period=ReportingPeriodFactory(
            date_start=datetime.date(2017, 7, 1), date_end=datetime.date(2017, 7, 31)
        ),
        report__source__name="Another real source",
    )
    models = (Incident, CasualtyTally, Estimate, IncidentActor, Report, ReportingPeriod, Region)
    before = {model: set(model.objects.values_list("pk", flat=True)) for model in models}
    synthetic_generate(incidents=INCIDENTS, seed=1)
    assert synthetic_count() == INCIDENTS
    removed = synthetic_delete()
    assert removed["incidents"] == INCIDENTS
    assert {model: set(model.objects.values_list("pk", flat=True)) for model in models} == before
    assert CasualtyTally.objects.filter(pk__in=[real.pk, real_total.pk]).count() == 2
    assert synthetic_count() == 0


def test_generation_refuses_to_load_twice(world):
    synthetic_generate(incidents=10, seed=1)
    with pytest.raises(SyntheticDataError, match="already loaded"):
        synthetic_generate(incidents=10, seed=2)
    assert synthetic_count() == 10


def test_generation_without_reference_data_says_to_seed_first():
    with pytest.raises(SyntheticDataError, match=r"manage\.py seed"):
        synthetic_generate(incidents=10, seed=1)
    assert Incident.objects.count() == 0


def test_the_command_loads_checks_and_deletes(world):
    out = io.StringIO()
    call_command("generate_synthetic", incidents=40, seed=5, no_progress=True, stdout=out)
    assert "Loaded 40 incidents" in out.getvalue()
    assert synthetic_count() == 40
    out = io.StringIO()
    call_command("generate_synthetic", check=True, stdout=out)
    assert "Every invariant holds." in out.getvalue()
    call_command("generate_synthetic", incidents=25, seed=5, replace=True, no_progress=True, stdout=io.StringIO())
    assert synthetic_count() == 25
    call_command("generate_synthetic", delete=True, stdout=io.StringIO())
    assert synthetic_count() == 0
    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_synthetic", incidents=0, stdout=io.StringIO())
