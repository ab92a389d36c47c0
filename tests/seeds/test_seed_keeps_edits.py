"""The seeds recognise their rows by their records, never undo or duplicate what people changed, and say so."""

import io
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from casualties import services
from casualties.models import Actor, CasualtyTally, Incident, IncidentActor, Region, ReportingPeriod
from seeds.demo import DEMO_FILE
from seeds.files import read_yaml
from seeds.loaders import seed
from seeds.models import SeedRecord
from sources.models import Report, Source
from tests.databases import subprocess_database_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEMO = read_yaml(DEMO_FILE)
HBEIT = uuid.UUID(next(e["public_id"] for e in DEMO["incidents"] if e["place_name"] == "Hbeit"))
EBELIN = uuid.UUID(next(e["public_id"] for e in DEMO["incidents"] if e["place_name"] == "Ebelin"))


def rows_per_kind() -> dict[str, int]:
    models = (Source, Actor, Region, Report, Incident, IncidentActor, ReportingPeriod, CasualtyTally)
    return {model._meta.label: model.objects.count() for model in models}


def edit_every_kind_of_demo_row() -> dict[str, object]:
    """What a staff member trying the admin might do, through the same services the admin calls."""
    user = UserFactory(is_superuser=True, is_staff=True)
    report = Report.objects.get(source__acronym="SOHR", published_on="2017-07-20")
    services.report_update(
        user=user, report=report, read_at=report.updated_at, changes={"title": "SOHR: 40 killed in Idlib clashes"}
    )
    hbeit = Incident.objects.get(public_id=HBEIT)
    services.incident_update(
        user=user, incident=hbeit, expected_version=hbeit.version, values={"title": "Hbeit clashes (edited)"}
    )
    ebelin = Incident.objects.get(public_id=EBELIN)
    hts = Actor.objects.get(acronym="HTS")
    services.incident_actors_set(user=user, incident=ebelin, actors=[(hts.pk, "side_a")])
    total = CasualtyTally.objects.get(report=report, incident=None)
    services.tally_update(user=user, tally=total, read_at=total.updated_at, changes={"best": 41, "high": 45})
    period = ReportingPeriod.objects.get(date_start="2017-07-19", date_end="2017-07-20")
    period.label = "The day before the report"
    services.reference_save(user=user, record=period)
    for model, lookup, field, value in (
        (Source, {"acronym": "SOHR"}, "name", "Syrian Observatory for Human Rights (SOHR)"),
        (Actor, {"acronym": "HTS"}, "description", "Edited by a reviewer."),
        (Region, {"code": "SY070003"}, "name", "Saraqib"),
    ):
        record = model.objects.get(**lookup)
        setattr(record, field, value)
        services.reference_save(user=user, record=record)
    return {"report": report.pk, "hbeit": hbeit.pk, "ebelin": ebelin.pk, "total": total.pk, "period": period.pk}


@pytest.fixture
def demo_seeded():
    seed(demo=True)


def test_a_re_run_after_edits_keeps_every_edit_duplicates_nothing_and_says_what_it_left(demo_seeded):
    pks = edit_every_kind_of_demo_row()
    edited = rows_per_kind()
    out = io.StringIO()
    call_command("seed", "--demo", stdout=out)

    assert rows_per_kind() == edited
    assert Report.objects.get(pk=pks["report"]).title == "SOHR: 40 killed in Idlib clashes"
    assert Incident.objects.get(pk=pks["hbeit"]).title == "Hbeit clashes (edited)"
    assert set(IncidentActor.objects.filter(incident=pks["ebelin"]).values_list("actor__acronym", "role")) == {
        ("HTS", "side_a")
    }
    assert CasualtyTally.objects.values_list("best", "high").get(pk=pks["total"]) == (41, 45)
    assert ReportingPeriod.objects.get(pk=pks["period"]).label == "The day before the report"
    assert Source.objects.get(acronym="SOHR").name == "Syrian Observatory for Human Rights (SOHR)"
    assert Actor.objects.get(acronym="HTS").description == "Edited by a reviewer."
    assert Region.objects.get(code="SY070003").name == "Saraqib"

    text = out.getvalue()
    assert "Seed complete." in text
    left = [line.strip() for line in text.splitlines() if line.startswith("  ")]
    expected = {
        "sources": "changed since the seed wrote it (name)",
        "actors": "changed since the seed wrote it (description)",
        "regions, sub-district (admin3)": "changed since the seed wrote it (name)",
        "demo reports": "changed since the seed wrote it (title)",
        "demo incidents": "changed since the seed wrote it (title)",
        "demo reporting periods": "changed since the seed wrote it (label)",
        "demo period totals": "changed since the seed wrote it (best, high)",
        "demo incident actors": "deleted since the seed wrote it; not created again",
    }
    for label, reason in expected.items():
        assert any(line.startswith(label + " ") and line.endswith(reason) for line in left), (label, left)
    # Ebelin's two seeded roles are gone (HTS moved to side_a is a row of the user's own, not the seed's).
    assert sum("demo incident actors" in line for line in left) == 2
    assert len(left) == len(expected) + 1


def test_a_re_run_with_nothing_edited_leaves_nothing_alone(demo_seeded):
    results = seed(demo=True)
    assert [line for result in results for line in result.left_alone] == []
    assert all(result.created == result.updated == 0 for result in results)


def test_a_deleted_demo_incident_is_not_created_again_nor_are_its_actors(demo_seeded):
    incident = Incident.objects.get(public_id=HBEIT)
    IncidentActor.objects.filter(incident=incident).delete()
    incident.delete()
    results = {result.label: result for result in seed(demo=True)}
    assert not Incident.objects.filter(public_id=HBEIT).exists()
    assert results["demo incidents"].left_alone == [
        f"demo incidents {HBEIT}: deleted since the seed wrote it; not created again"
    ]
    assert [line.split(": ", 1)[1] for line in results["demo incident actors"].left_alone] == [
        "its incident is not there",
        "its incident is not there",
    ]


def test_a_data_file_change_still_reaches_rows_no_one_edited_but_not_edited_ones(demo_seeded, tmp_path):
    edit_every_kind_of_demo_row()
    demo_file = tmp_path / DEMO_FILE.name
    text = DEMO_FILE.read_text(encoding="utf-8")
    demo_file.write_text(
        text.replace("HTS in Hbeit", "HTS in Hbeit village").replace("HTS in Marian", "HTS in Marian village"),
        encoding="utf-8",
    )
    results = {result.label: result for result in seed(demo=True, demo_file=demo_file)}
    assert results["demo incidents"].updated == 1
    titles = dict(Incident.objects.values_list("place_name", "title"))
    assert (titles["Hbeit"], titles["Marian"]) == (
        "Hbeit clashes (edited)",
        "Clashes between Ahrar al-Sham and HTS in Marian village",
    )


def test_a_row_changed_to_what_the_data_says_is_the_seeds_again(demo_seeded):
    user = UserFactory(is_superuser=True, is_staff=True)
    hbeit = Incident.objects.get(public_id=HBEIT)
    original = hbeit.title
    hbeit = services.incident_update(user=user, incident=hbeit, expected_version=hbeit.version, values={"title": "x"})
    services.incident_update(user=user, incident=hbeit, expected_version=hbeit.version, values={"title": original})
    results = {result.label: result for result in seed(demo=True)}
    assert results["demo incidents"].left_alone == []
    assert results["demo incidents"].unchanged == 6


def test_rows_seeded_before_records_were_kept_are_adopted_and_edits_among_them_kept(demo_seeded):
    SeedRecord.objects.all().delete()
    Incident.objects.filter(public_id=HBEIT).update(title="Edited before the upgrade")
    results = {result.label: result for result in seed(demo=True)}
    assert Incident.objects.get(public_id=HBEIT).title == "Edited before the upgrade"
    assert results["demo incidents"].left_alone == [
        f"demo incidents {HBEIT}: differs from the data (title) and was not written by it"
    ]
    assert (results["demo incidents"].created, results["demo incidents"].updated) == (0, 0)
    assert Incident.objects.count() == 6
    assert SeedRecord.objects.filter(model="casualties.Incident").count() == 5


def test_a_new_demo_row_that_would_clash_is_left_out_with_the_reason(demo_seeded, tmp_path):
    """A data file adding a period total that overlaps a stored one: the seed skips it and says why."""
    demo_file = tmp_path / DEMO_FILE.name
    text = DEMO_FILE.read_text(encoding="utf-8")
    demo_file.write_text(
        text.replace("title: About 40 killed in 24 hours", "title: About forty killed in 24 hours"), encoding="utf-8"
    )
    before = rows_per_kind()
    results = {result.label: result for result in seed(demo=True, demo_file=demo_file)}
    after = rows_per_kind()
    assert after["sources.Report"] == before["sources.Report"] + 1  # a changed key is a new report, as documented
    assert after["casualties.CasualtyTally"] == before["casualties.CasualtyTally"]
    (line,) = results["demo period totals"].left_alone
    assert "not written:" in line
    assert "overlaps" in line


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_make_setup_runs_again_after_every_kind_of_demo_row_was_edited():
    seed(demo=True)
    edit_every_kind_of_demo_row()
    url = subprocess_database_url()
    # The test database as the suite's own login, which then both migrates and seeds (no second role).
    inherited = {
        name: value for name, value in os.environ.items() if name not in {"DATABASE_OWNER_URL", "DATABASE_ROLE"}
    }
    environment = {**inherited, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    run = subprocess.run(
        ["make", "--no-print-directory", "setup", f"PYTHON={sys.executable}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert "Seed complete." in run.stdout
    assert "changed since the seed wrote it (title)" in run.stdout
    assert Incident.objects.count() == 6
    assert Report.objects.filter(published_on="2017-07-20").count() == 1
