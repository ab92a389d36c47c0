import pycountry
import pytest
from django.db.models import F

from casualties.models import Region
from casualties.search import text_contains

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_db")]


def names_contain(spelling: str):
    """The regions search finds for a spelling, as the picker and the API search."""
    return text_contains(spelling, "search_names", stored_folded=True)


def codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


def test_syria_has_14_governorates_62_districts_272_sub_districts_and_1904_communities():
    syria = Region.objects.subtree(Region.objects.get(code="SYR"))
    counts = {level: syria.filter(level=level).count() for level in range(5)}
    assert counts == {0: 1, 1: 14, 2: 62, 3: 272, 4: 1904}


def test_all_communities_are_in_aleppo_governorate():
    aleppo = Region.objects.get(code="SY02")
    assert Region.objects.filter(level=4).count() == Region.objects.subtree(aleppo).filter(level=4).count() == 1904


def test_idleb_governorate_has_5_districts_and_26_sub_districts():
    idleb = Region.objects.subtree(Region.objects.get(code="SY07"))
    assert codes(idleb.filter(level=2)) == {"SY0700", "SY0702", "SY0703", "SY0704", "SY0705"}
    assert idleb.filter(level=3).count() == 26


def test_idleb_governorate_carries_its_iso_code_and_no_separate_iso_unit_exists():
    idleb = Region.objects.get(iso_code="SY-ID")
    assert (idleb.code, idleb.name, idleb.name_local, idleb.level) == ("SY07", "Idleb", "إدلب", 1)
    assert not Region.objects.filter(code__startswith="SY-").exists()


def test_every_governorate_carries_the_iso_code_of_syrias_iso_3166_2_units():
    governorates = Region.objects.filter(parent__code="SYR")
    iso_units = {sub.code for sub in pycountry.subdivisions.get(country_code="SY") if sub.parent_code is None}
    assert governorates.count() == 14
    assert set(governorates.values_list("iso_code", flat=True)) == iso_units
    assert governorates.get(code="SY02").iso_code == "SY-HL"
    assert governorates.get(code="SY12").iso_code == "SY-DR"


def test_the_gazetteer_country_row_is_syr_with_its_arabic_name_and_sy_is_no_region_code():
    syria = Region.objects.get(code="SYR")
    assert (syria.iso_code, syria.name, syria.name_local, syria.parent) == (
        "SYR",
        "Syria",
        "الجمهورية العربية السورية",
        None,
    )
    assert "Syrian Arab Republic" in syria.alternate_names
    assert not Region.objects.filter(code="SY").exists()


def test_saraqib_sub_district_path_runs_from_the_country_through_idleb_district():
    saraqib = Region.objects.get(code="SY070003")
    assert saraqib.path == "SYR/SY07/SY0700/SY070003/"
    assert (saraqib.name, saraqib.name_local) == ("Saraqab", "سراقب")


@pytest.mark.parametrize("spelling", ["idlib", "idleb", "edlib", "إدلب"])
def test_idleb_governorate_is_found_by_any_spelling_and_its_arabic_name(spelling):
    found = codes(Region.objects.filter(names_contain(spelling), level__lte=3))
    assert {"SY07", "SY0700", "SY070000"} <= found


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("saraqib", "SY070003"),
        ("saraqeb", "SY070003"),
        ("halab", "SY02"),
        ("deir al-zour", "SY09"),
        ("al-raqqah", "SY11"),
        ("hasakah", "SY08"),
        ("latakia", "SY06"),
        ("dara'a", "SY12"),
        ("tartus", "SY10"),
        ("suwayda", "SY13"),
        ("quneitra", "SY14"),
        ("maarat al-numan", "SY070200"),
        ("jisr al-shughur", "SY0704"),
        ("kafr nabl", "SY070203"),
    ],
)
def test_places_are_found_by_their_common_alternate_spellings(spelling, code):
    assert code in codes(Region.objects.filter(names_contain(spelling)))


def test_a_governorates_iso_3166_2_name_is_one_of_its_alternate_names():
    assert "Ḩalab" in Region.objects.get(code="SY02").alternate_names
    assert Region.objects.get(code="SY07").alternate_names[0] == "Idlib"


def test_every_iso_3166_1_country_is_loaded_by_alpha_3_code():
    countries = Region.objects.filter(level=0)
    assert countries.count() == len(pycountry.countries)
    assert set(countries.values_list("code", flat=True)) == {c.alpha_3 for c in pycountry.countries}
    assert not countries.exclude(iso_code=F("code")).exists()


def test_first_level_iso_3166_2_units_are_loaded_under_their_country_outside_syria():
    expected = {sub.code for sub in pycountry.subdivisions if sub.parent_code is None and sub.country_code != "SY"}
    iso_units = Region.objects.filter(level=1).exclude(parent__code="SYR")
    assert codes(iso_units) == expected
    bangladesh_a = Region.objects.get(code="BD-A")
    assert (bangladesh_a.iso_code, bangladesh_a.path) == ("BD-A", "BGD/BD-A/")


def test_names_are_stored_as_in_the_source_without_surrounding_whitespace():
    names = dict(Region.objects.filter(code__in=["C8179", "C7503", "C9028"]).values_list("code", "name"))
    assert names == {"C8179": "Talatayna", "C7503": "Shraqi \\ Qarah Shuki", "C9028": "Dab\u2018ah as-Saghir"}
