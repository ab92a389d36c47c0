import datetime
import re

import pycountry
import pytest
from pghistory.models import Events

from casualties.models import Actor, Incident, IncidentType, Region
from casualties.search import text_contains
from seeds.demo import DEMO_FILE
from seeds.loaders import load_actors, load_sources, seed
from seeds.sync import SeedDataError
from sources.models import Source

pytestmark = pytest.mark.django_db

# Countries, every first-level ISO 3166-2 unit (Syria's 14 replaced by its 14 governorates),
# and Syria's districts, sub-districts and Aleppo communities.
ISO_ADMIN1 = sum(1 for sub in pycountry.subdivisions if sub.parent_code is None)
REGION_TOTAL = len(pycountry.countries) + ISO_ADMIN1 + 62 + 272 + 1904


def test_a_first_run_creates_every_region_once():
    results = {result.label: result for result in seed()}
    created = sum(result.created for label, result in results.items() if label.startswith("regions"))
    assert created == Region.objects.count() == REGION_TOTAL


def test_a_second_run_changes_nothing(database_state):
    seed()
    before = database_state()
    results = seed()
    assert database_state() == before
    assert [(r.label, r.created, r.updated) for r in results if r.created or r.updated] == []


def test_loading_the_demo_twice_changes_nothing(database_state):
    seed(demo=True)
    before = database_state()
    results = {result.label: result for result in seed(demo=True)}
    assert database_state() == before
    assert (results["demo incidents"].unchanged, results["demo period totals"].unchanged) == (6, 1)
    assert set(Incident.objects.values_list("version", flat=True)) == {1}


def test_editing_the_demo_file_updates_the_edited_incident_only(tmp_path, database_state):
    demo_file = tmp_path / DEMO_FILE.name
    demo_file.write_text(
        DEMO_FILE.read_text(encoding="utf-8").replace("HTS in Hbeit", "HTS in Hbeit village"), encoding="utf-8"
    )
    seed(demo=True)
    before = database_state()
    results = {result.label: result for result in seed(demo=True, demo_file=demo_file)}
    after = database_state()
    assert (results["demo incidents"].updated, results["demo incidents"].created) == (1, 0)
    assert after["tuples updated"] - before["tuples updated"] == 1
    edited = Incident.objects.get(place_name="Hbeit")
    assert (edited.title, edited.version) == ("Clashes between Ahrar al-Sham and HTS in Hbeit village", 2)


def test_editing_a_data_value_updates_exactly_that_row(data_copy, database_state):
    seed(data_dir=data_copy)
    sources = data_copy / "sources.yaml"
    sources.write_text(sources.read_text().replace("https://www.syriahr.com/", "https://www.syriahr.com/en/"))
    before = database_state()
    results = {result.label: result for result in seed(data_dir=data_copy)}
    after = database_state()
    assert (results["sources"].updated, results["sources"].unchanged) == (1, Source.objects.count() - 1)
    assert after["tuples updated"] - before["tuples updated"] == 1
    assert after["audit events"] - before["audit events"] == 1
    assert Source.objects.get(acronym="SOHR").website == "https://www.syriahr.com/en/"
    updates = [
        (e.pgh_model, e.pgh_data["acronym"], e.pgh_data["website"]) for e in Events.objects.filter(pgh_label="update")
    ]
    assert updates == [("sources.SourceEvent", "SOHR", "https://www.syriahr.com/en/")]


def test_renaming_a_gazetteer_unit_updates_only_its_row_and_keeps_its_path(data_copy, database_state):
    seed(data_dir=data_copy)
    admin3 = data_copy / "gazetteer" / "syria_admin3.csv"
    admin3.write_text(admin3.read_text(encoding="utf-8").replace("SY070003,Saraqab,", "SY070003,Saraqib,"), "utf-8")
    before = database_state()
    seed(data_dir=data_copy)
    after = database_state()
    saraqib = Region.objects.get(code="SY070003")
    assert (saraqib.name, saraqib.path) == ("Saraqib", "SYR/SY07/SY0700/SY070003/")
    assert Region.objects.filter(text_contains("Saraqib", "search_names", stored_folded=True)).get() == saraqib
    assert after["tuples updated"] - before["tuples updated"] == 1
    assert after["casualties.Region"] == before["casualties.Region"]


def test_removing_an_entry_from_a_data_file_keeps_its_row(data_copy):
    load_sources(data_dir=data_copy)
    sources = data_copy / "sources.yaml"
    sources.write_text(re.sub(r"- name: Reuters\n(  .*\n)+", "", sources.read_text()))
    result = load_sources(data_dir=data_copy)
    assert Source.objects.filter(name="Reuters").exists()
    assert (result.created, result.updated) == (0, 0)


def test_the_governorate_iso_table_must_match_pycountry_or_nothing_is_loaded(data_copy):
    table = data_copy / "syria_iso3166_2.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("SY02,Aleppo,SY-HL", "SY02,Aleppo,SY-HI"), "utf-8")
    with pytest.raises(SeedDataError, match="SY-HL is not paired exactly once"):
        seed(data_dir=data_copy)
    assert not Region.objects.exists()


def test_an_alternate_spelling_for_a_unit_not_in_the_gazetteer_stops_the_seed(data_copy):
    spellings = data_copy / "alternate_names.yaml"
    spellings.write_text(spellings.read_text(encoding="utf-8") + "SY079999: [Nowhere]\n", "utf-8")
    with pytest.raises(SeedDataError, match="SY079999"):
        seed(data_dir=data_copy)


def test_hts_is_found_by_its_former_name_jabhat_al_nusra(data_copy):
    load_actors(data_dir=data_copy)
    hts = Actor.objects.get(acronym="HTS")
    assert list(Actor.objects.named("Jabhat al-Nusra")) == [hts]
    history = set(hts.names.filter(valid_from__isnull=False).values_list("name", "valid_from", "valid_to"))
    assert history == {
        ("Jabhat al-Nusra", datetime.date(2012, 1, 23), datetime.date(2016, 7, 28)),
        ("al-Nusra Front", datetime.date(2012, 1, 23), datetime.date(2016, 7, 28)),
        ("Jabhat Fatah al-Sham", datetime.date(2016, 7, 28), datetime.date(2017, 1, 28)),
    }


def test_actors_have_the_kinds_of_the_vocabulary(data_copy):
    load_actors(data_dir=data_copy)
    kinds = dict(Actor.objects.values_list("name", "kind"))
    assert (
        kinds["Russian armed forces"] == kinds["Turkish armed forces"] == kinds["US-led coalition"] == "foreign_state"
    )
    assert kinds["Syrian government forces"] == "state_forces"
    assert kinds["Unknown actor"] == "unknown"
    assert list(Actor.objects.named("Islamic State of Iraq").values_list("name", flat=True)) == ["Islamic State"]
    assert "Islamic State" in Actor.objects.named("Daesh").values_list("name", flat=True)


def test_the_sources_registry_names_the_monitors_and_grades_none(data_copy):
    load_sources(data_dir=data_copy)
    sohr = Source.objects.get(acronym="SOHR")
    assert (sohr.name, sohr.kind, sohr.country) == ("Syrian Observatory for Human Rights", "monitoring_group", "GBR")
    assert {"SOHR", "SNHR", "VDC", "IBC", "ACLED", "UCDP", "OCHA", "SANA", "AFP", "WHO"} <= set(
        Source.objects.values_list("acronym", flat=True)
    )
    assert not Source.objects.exclude(reliability="").exists()


def test_the_incident_type_vocabulary_is_ordered_with_armed_clash_first_and_other_last():
    seed()
    codes = list(IncidentType.objects.values_list("code", flat=True))
    assert (codes[0], codes[-1], len(codes)) == ("armed-clash", "other", 16)
    assert not IncidentType.objects.filter(description="").exists()
