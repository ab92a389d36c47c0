# ruff: noqa: RUF001 -- Arabic letters and typographic apostrophes are what these tests are about.
"""Search folds Arabic spellings and Latin transliterations alike, in one indexed query (casualties/sql/search.sql)."""

import re
import unicodedata

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from casualties.models import Actor, Incident
from casualties.search import incident_text_search
from seeds.files import DATA_DIR
from seeds.loaders import load_actors
from tests.factories import IncidentFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

# The folding as the documentation states it, written out independently of the SQL.
ALEF = "أإآٱ"
ARABIC = {**dict.fromkeys(ALEF, "ا"), "ى": "ي", "ی": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي", "ک": "ك"}
DROPPED = {"\u0640", *map(chr, range(0x064B, 0x0653)), "\u0670", "'", "’", "‘", "`", "ʿ", "ʾ"}
VARIANT = {"e": "i", "o": "u", "q": "k", "-": " "}


def reference_fold(text: str) -> str:
    out = []
    for char in text.lower():
        if char in DROPPED:
            continue
        char = ARABIC.get(char, char)
        decomposed = unicodedata.normalize("NFD", char)
        base = decomposed[0]
        if len(decomposed) > 1 and base.isascii() and base.isalpha():
            char = base.lower()
        out.append(VARIANT.get(char, char))
    return re.sub(r"([a-z])\1+", r"\1", "".join(out))


def fold(text: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT casualties_search_text(%s)", [text])
        return cursor.fetchone()[0]


FOLDED_LETTERS = "āáàâäãåīíìîïūúùûüēéèêëōóòôöõçşšṣğżžẓḥṭḍĀÁĪÍŪÚĒÉŌÓḤṢṬ"
ALPHABET = "abdehikloqrstuyz -'’ʿ" + FOLDED_LETTERS + "ابتدرسشلمنهيوةىیکؤئ" + ALEF + "\u0640\u064e\u0650\u0651\u0652"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_the_database_folds_text_as_documented_and_folding_twice_changes_nothing(text):
    folded = fold(text)
    assert folded == reference_fold(text)
    assert fold(folded) == folded


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ادلب", "إدلب"),
        ("اريحا", "أريحا"),
        ("مستشفى", "مستشفي"),
        ("مدرسة", "مدرسه"),
        ("سَرَاقِب", "سراقب"),
        ("Sarakib", "Saraqib"),
        ("Idleb", "Idlib"),
        ("Maarrat", "Ma'arat"),
        ("Ahrar al Sham", "Ahrar al-Sham"),
        ("Hayat", "Hay'at"),
        ("Ḥamāh", "Hamah"),
    ],
)
def test_spellings_people_type_fold_to_the_stored_one(typed, stored):
    assert fold(typed) == fold(stored)


def test_incidents_are_found_by_arabic_and_transliterated_spellings_through_the_api(api_client):
    api_client.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    saraqib = IncidentFactory(title="HTS attack on the Sharia court in Saraqib", status="verified")
    ariha = IncidentFactory(title="قصف على أريحا", place_name="أريحا", status="verified")
    IncidentFactory(title="Clashes in Maarata", status="verified")

    def found(term):
        response = api_client.get("/api/v1/incidents/", {"q": term})
        assert response.status_code == 200
        return {row["public_id"] for row in response.json()["results"]}

    assert found("Sarakib") == found("saraqeb") == {str(saraqib.public_id)}
    assert found("اريحا") == found("أريحا") == {str(ariha.public_id)}
    assert found("nowhere") == set()


def test_the_incident_search_is_one_query_on_the_folded_text_indexes():
    IncidentFactory()
    with connection.cursor() as cursor:
        sql, params = (
            Incident.objects.filter(incident_text_search("اريحا")).order_by().values("pk").query.sql_with_params()
        )
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = str(cursor.fetchone()[0])
    used = set(re.findall(r"'Index Name': '([a-z_]+)'", plan))
    assert used == {
        "casualties_incident_title_fold",
        "casualties_incident_descr_fold",
        "casualties_incident_place_fold",
    }


def test_regions_are_found_through_the_api_by_spellings_without_hamza(api_client):
    country = RegionFactory(code="SYR", name="Syrian Arab Republic")
    idlib = RegionFactory(code="SY07", name="Idleb", name_local="إدلب", alternate_names=["Idlib"], parent=country)
    ariha = RegionFactory(code="SY0705", name="Ariha", name_local="أريحا", parent=idlib)

    def codes(term):
        return [row["code"] for row in api_client.get("/api/v1/regions/", {"q": term}).json()["results"]]

    assert codes("ادلب") == ["SY07"]
    assert codes("اريحا") == codes("Areeha".replace("ee", "i")) == [ariha.code]


def test_actors_are_found_by_their_arabic_names_with_or_without_hamza(api_client):
    load_actors(data_dir=DATA_DIR)
    hts = Actor.objects.get(acronym="HTS")
    ahrar = Actor.objects.get(name="Ahrar al-Sham")

    def names(term):
        response = api_client.get("/api/v1/actors/", {"q": term})
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names("هيئة تحرير الشام") == names("هيئه تحرير الشام") == [hts.name]
    assert names("أحرار الشام") == names("احرار الشام") == [ahrar.name]
    assert names("Ahrar al Sham") == [ahrar.name]
    assert set(Actor.objects.named("داعش").values_list("name", flat=True)) == {"Islamic State"}
