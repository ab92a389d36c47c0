"""Round trip: random incidents and figures, exported and read back with the csv module, equal the database."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casualties.choices import CasualtyStatus, Outcome
from casualties.models import CasualtyTally, Estimate, Incident
from tests.exports import receipt_row_count
from tests.factories import IncidentFactory, RegionFactory, ReportFactory, SourceFactory, TallyFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PIECES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
TEXT = st.one_of(PIECES, st.tuples(st.sampled_from([*FORMULA_STARTS, '"', ",", "\n", " "]), PIECES).map("".join))
BOUNDS = st.lists(st.integers(0, 10_000), min_size=3, max_size=3).map(sorted)
FIGURES = st.dictionaries(
    st.tuples(st.integers(0, 2), st.sampled_from([Outcome.KILLED, Outcome.INJURED]), st.sampled_from(CasualtyStatus)),
    st.tuples(BOUNDS, TEXT),
    max_size=5,
)
INCIDENT = st.fixed_dictionaries(
    {
        "title": TEXT.filter(bool),
        "place_name": TEXT,
        "level": st.integers(0, 4),
        "days": st.integers(0, 3000),
        "point": st.one_of(st.none(), st.tuples(st.decimals(-90, 90, places=6), st.decimals(-180, 180, places=6))),
        "figures": FIGURES,
    }
)


def neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def expected_row(incident: Incident) -> dict:
    codes = incident.region.path.rstrip("/").split("/")
    row = {
        "incident_id": str(incident.public_id),
        "title": neutralised(incident.title),
        "date_start": incident.date_start.isoformat(),
        "date_end": incident.date_end.isoformat(),
        "place_name": neutralised(incident.place_name),
        "latitude": "" if incident.latitude is None else f"{incident.latitude:.6f}",
        "longitude": "" if incident.longitude is None else f"{incident.longitude:.6f}",
        "source_count": str(CasualtyTally.objects.filter(incident=incident).values("source").distinct().count()),
    }
    for level, prefix in enumerate(["country", "admin1", "admin2", "admin3", "admin4"]):
        row[f"{prefix}_code"] = codes[level] if level < len(codes) else ""
    for outcome in (Outcome.KILLED, Outcome.INJURED):
        for status in CasualtyStatus.values:
            estimate = Estimate.objects.filter(incident=incident, outcome=outcome, status=status, group="all").first()
            for bound in ("low", "best", "high"):
                row[f"{outcome}_{status}_{bound}"] = "" if estimate is None else str(getattr(estimate, bound))
    return row


@pytest.fixture
def world():
    chain = [RegionFactory(code="SYR", name="Syria")]
    for code in ("SY07", "SY0700", "SY070003", "C1007"):
        chain.append(RegionFactory(code=code, parent=chain[-1]))
    reports = [ReportFactory(source=SourceFactory()) for _ in range(3)]
    return chain, reports


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incidents=st.lists(INCIDENT, max_size=6))
def test_incident_export_read_back_equals_the_database(api_client, world, incidents):
    chain, reports = world
    CasualtyTally.objects.all().delete()
    Incident.objects.all().delete()
    for spec in incidents:
        # A community is located near a point: the gazetteer has no unit below it.
        latitude, longitude = spec["point"] or (
            (Decimal("36.1"), Decimal("36.6")) if spec["level"] == 4 else (None, None)
        )
        incident = IncidentFactory(
            title=spec["title"],
            place_name=spec["place_name"],
            region=chain[spec["level"]],
            date_start=datetime.date(2010, 1, 1) + datetime.timedelta(days=spec["days"]),
            location_precision="near"
            if latitude is not None
            else ["country", "admin1", "admin2", "admin3"][spec["level"]],
            latitude=latitude,
            longitude=longitude,
        )
        for (report, outcome, status), ((low, best, high), phrase) in spec["figures"].items():
            TallyFactory(incident=incident, report=reports[report], outcome=outcome, status=status,
                         low=low, best=best, high=high, reported_phrase=phrase)  # fmt: skip

    response = api_client.get("/api/v1/exports/incidents.csv")
    exported = read_back(response)
    tallies_response = api_client.get("/api/v1/exports/tallies.csv")
    exported_tallies = read_back(tallies_response)

    expected = [expected_row(i) for i in Incident.objects.select_related("region").order_by("id")]
    assert receipt_row_count(api_client, response) == len(expected)
    assert [{key: row[key] for key in expected_row_keys(expected)} for row in exported] == expected
    expected_tallies = [expected_tally_row(t) for t in CasualtyTally.objects.select_related("incident").order_by("id")]
    assert receipt_row_count(api_client, tallies_response) == len(expected_tallies)
    assert [{key: row[key] for key in expected_row_keys(expected_tallies)} for row in exported_tallies] == (
        expected_tallies
    )


def read_back(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"), newline="")))


def expected_tally_row(tally: CasualtyTally) -> dict:
    return {
        "tally_id": str(tally.pk),
        "source_id": str(tally.source_id),
        "report_id": str(tally.report_id),
        "incident_id": str(tally.incident.public_id),
        "outcome": tally.outcome,
        "status": tally.status,
        "low": str(tally.low),
        "best": str(tally.best),
        "high": str(tally.high),
        "reported_phrase": neutralised(tally.reported_phrase),
    }


def expected_row_keys(expected: list[dict]) -> list[str]:
    return list(expected[0]) if expected else []
