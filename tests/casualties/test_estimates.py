"""Estimates: kept current by the database as tallies change, and equal to a rebuild from scratch."""

import datetime
from collections import defaultdict

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casualties.models import CasualtyTally, Estimate
from casualties.services import estimates_rebuild
from sources.models import Report
from tests.factories import IncidentFactory, RegionFactory, ReportFactory, SourceFactory, TallyFactory

pytestmark = pytest.mark.django_db

KEY_FIELDS = ("incident_id", "outcome", "status", "group")


def estimates_now() -> dict:
    return {
        tuple(row[f] for f in KEY_FIELDS): (row["low"], row["best"], row["high"], row["source_count"])
        for row in Estimate.objects.values(*KEY_FIELDS, "low", "best", "high", "source_count")
    }


def estimates_reference() -> dict:
    """The estimate rule written out plainly over the tallies."""
    groups = defaultdict(list)
    for tally in CasualtyTally.objects.filter(incident__isnull=False).select_related("report"):
        groups[(tally.incident_id, tally.outcome, tally.status, tally.group)].append(tally)
    expected = {}
    for key, tallies in groups.items():
        chosen = max(tallies, key=lambda t: (t.is_preferred, t.report.published_on, t.report_id, t.id))
        sources = {t.report.source_id for t in tallies}
        expected[key] = (min(t.low for t in tallies), chosen.best, max(t.high for t in tallies), len(sources))
    return expected


def test_estimate_takes_extremes_and_the_latest_reports_best():
    incident = IncidentFactory()
    old = ReportFactory(published_on=datetime.date(2017, 7, 20))
    new = ReportFactory(published_on=datetime.date(2017, 7, 22))
    TallyFactory(incident=incident, report=old, low=30, best=40, high=45)
    TallyFactory(incident=incident, report=new, low=35, best=38, high=50)
    estimate = Estimate.objects.get(incident=incident)
    assert (estimate.low, estimate.best, estimate.high, estimate.source_count) == (30, 38, 50, 2)
    assert estimate.best_tally.report == new


def test_a_preferred_tally_gives_the_best_figure_over_a_later_report():
    incident = IncidentFactory()
    old = TallyFactory(incident=incident, report=ReportFactory(published_on=datetime.date(2017, 7, 20)), best=40)
    TallyFactory(incident=incident, report=ReportFactory(published_on=datetime.date(2017, 7, 22)), best=38)
    old.is_preferred = True
    old.save()
    assert Estimate.objects.get(incident=incident).best == 40


def test_two_reports_of_one_source_count_as_one_source():
    incident = IncidentFactory()
    source = SourceFactory()
    TallyFactory(incident=incident, report=ReportFactory(source=source), best=3)
    TallyFactory(incident=incident, report=ReportFactory(source=source), best=4)
    assert Estimate.objects.get(incident=incident).source_count == 1


def test_deleting_the_last_tally_removes_the_estimate_and_missing_is_not_zero():
    incident = IncidentFactory()
    killed = TallyFactory(incident=incident, outcome="killed", best=5)
    assert list(Estimate.objects.filter(incident=incident).values_list("outcome", flat=True)) == ["killed"]
    killed.delete()
    assert not Estimate.objects.filter(incident=incident).exists()


def test_a_later_publication_date_moves_the_best_figure_with_it():
    incident = IncidentFactory()
    first = TallyFactory(incident=incident, report=ReportFactory(published_on=datetime.date(2017, 7, 20)), best=40)
    TallyFactory(incident=incident, report=ReportFactory(published_on=datetime.date(2017, 7, 22)), best=38)
    Report.objects.filter(pk=first.report_id).update(published_on=datetime.date(2017, 7, 25))
    assert Estimate.objects.get(incident=incident).best == 40


def test_period_totals_have_no_incident_estimate():
    country = RegionFactory()
    from tests.factories import ReportingPeriodFactory

    TallyFactory(incident=None, region=country, reporting_period=ReportingPeriodFactory(), best=40)
    assert Estimate.objects.count() == 0


def test_rebuild_estimates_command_restores_deleted_estimates(capsys, database_owner):
    from django.core.management import call_command

    incident = IncidentFactory()
    TallyFactory(incident=incident, best=7)
    Estimate.objects.all().delete()
    call_command("rebuild_estimates")
    assert Estimate.objects.get(incident=incident).best == 7
    assert "Rebuilt 1 estimates" in capsys.readouterr().out


# --- property: any sequence of tally writes leaves estimates equal to a rebuild and to the rule ---

counts = st.integers(min_value=0, max_value=60)
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.integers(0, 1),  # incident
            st.integers(0, 3),  # report
            st.sampled_from(["killed", "injured"]),
            st.sampled_from(["civilian", "unknown"]),
            st.sampled_from(["all", "children"]),
            counts,
            counts,
            counts,
            st.booleans(),
        ),
        st.tuples(st.just("edit"), st.integers(0, 20), counts, counts, counts, st.booleans()),
        st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, 3)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
        st.tuples(st.just("bulk"), st.integers(0, 1), counts),
        st.tuples(st.just("republish"), st.integers(0, 3), st.integers(0, 3)),
        st.tuples(st.just("resource"), st.integers(0, 3), st.integers(0, 2)),
    ),
    max_size=25,
)


def apply(op, incidents, reports, sources):
    kind, *args = op
    tallies = list(CasualtyTally.objects.order_by("id"))
    if kind == "create":
        incident, report, outcome, status, group, *figures, preferred = args
        low, best, high = sorted(figures)
        CasualtyTally.objects.create(
            incident=incidents[incident], report=reports[report], outcome=outcome, status=status, group=group,
            low=low, best=best, high=high, is_preferred=preferred,
        )  # fmt: skip
    elif kind == "edit" and tallies:
        tally = tallies[args[0] % len(tallies)]
        tally.low, tally.best, tally.high = sorted(args[1:4])
        tally.is_preferred = args[4]
        tally.save()
    elif kind == "move" and tallies:
        tally = tallies[args[0] % len(tallies)]
        tally.report = reports[args[1]]
        tally.source_id = None
        tally.save()
    elif kind == "delete" and tallies:
        tallies[args[0] % len(tallies)].delete()
    elif kind == "bulk":
        CasualtyTally.objects.filter(incident=incidents[args[0]], low__lte=args[1], high__gte=args[1]).update(
            best=args[1], is_preferred=False
        )
    elif kind == "republish":
        Report.objects.filter(pk=reports[args[0]].pk).update(published_on=datetime.date(2017, 7, 18 + args[1]))
    elif kind == "resource":
        Report.objects.filter(pk=reports[args[0]].pk).update(source=sources[args[1]])


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_incremental_estimates_equal_a_rebuild_after_any_sequence_of_tally_writes(ops):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        region = RegionFactory()
        incidents = [IncidentFactory(region=region), IncidentFactory(region=region)]
        sources = [SourceFactory(), SourceFactory(), SourceFactory()]
        reports = [
            ReportFactory(source=sources[i % 3], published_on=datetime.date(2017, 7, 20 + i % 2)) for i in range(4)
        ]
        for op in ops:
            try:
                with transaction.atomic():
                    apply(op, incidents, reports, sources)
            except IntegrityError:
                pass  # a write the invariants refuse changes nothing, which is also checked below
        incremental = estimates_now()
        assert incremental == estimates_reference()
        estimates_rebuild()
        assert estimates_now() == incremental
        transaction.set_rollback(True)
