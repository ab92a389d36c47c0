"""The gazetteer seed: every country and its ISO 3166-2 first-level units, and Syria by OCHA p-code.

Where a country's p-code gazetteer is loaded (Syria), its ISO 3166-2 units are not loaded beside the
governorates; each governorate carries its ISO code instead, so every place exists once.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pycountry

from casualties.choices import RegionLevel
from casualties.models import Region

from .files import read_csv, read_yaml
from .sync import Row, SeedDataError, SyncResult, sync_rows

GAZETTEER_DIR = "gazetteer"
GAZETTEER_FILE = "syria_admin{level}.csv"
ISO_TABLE_FILE = "syria_iso3166_2.csv"
ALTERNATE_NAMES_FILE = "alternate_names.yaml"


@dataclass
class Unit:
    """One region as the data describes it, its parent named by code."""

    code: str
    name: str
    level: int
    parent_code: str | None = None
    iso_code: str = ""
    name_local: str = ""
    other_names: list[str] = field(default_factory=list)

    def row(self, *, parent_id: int | None) -> Row:
        return {
            "code": self.code,
            "iso_code": self.iso_code,
            "name": self.name,
            "name_local": self.name_local,
            "alternate_names": distinct_names(name=self.name, candidates=self.other_names),
            "level": self.level,
            "parent_id": parent_id,
        }


def load_regions(*, data_dir: Path) -> list[SyncResult]:
    """Create or update every region of the world list and the Syria gazetteer, one level at a time."""
    gazetteer = read_gazetteer(data_dir=data_dir)
    if len(gazetteer[RegionLevel.COUNTRY]) != 1:
        raise SeedDataError("The p-code gazetteer must describe exactly one country.")
    [admin0] = gazetteer[RegionLevel.COUNTRY]
    country = country_for_pcode(admin0["pcode"])
    iso = governorate_iso_codes(
        table=read_csv(data_dir / ISO_TABLE_FILE), governorates=gazetteer[RegionLevel.ADMIN1], alpha_2=country.alpha_2
    )
    units = [
        *country_units(local_names={country.alpha_3: admin0["name_ar"]}),
        *iso_subdivision_units(skip_countries={country.alpha_2}),
        *pcode_units(gazetteer=gazetteer, country_codes={admin0["pcode"]: country.alpha_3}, iso=iso),
    ]
    add_alternate_names(units=units, spellings=read_yaml(data_dir / ALTERNATE_NAMES_FILE))
    return sync_levels(units=units)


def sync_levels(*, units: list[Unit]) -> list[SyncResult]:
    """Parents before children: the path trigger reads the parent's path when a row is written."""
    pks: dict[str, int] = {}
    results = []
    for level in RegionLevel:
        rows = [unit.row(parent_id=parent_pk(unit=unit, pks=pks)) for unit in units if unit.level == level]
        result = sync_rows(label=f"regions, {level.label.lower()}", model=Region, key=("code",), rows=rows)
        pks.update({code: pk for (code,), pk in result.pks.items()})
        results.append(result)
    return results


def parent_pk(*, unit: Unit, pks: dict[str, int]) -> int | None:
    if unit.parent_code is None:
        return None
    if unit.parent_code not in pks:
        raise SeedDataError(f"The parent {unit.parent_code} of region {unit.code} is not in the data.")
    return pks[unit.parent_code]


def read_gazetteer(*, data_dir: Path) -> dict[int, list[dict[str, str]]]:
    """The p-code files by level, names stripped of surrounding whitespace (see gazetteer/README.md)."""
    return {
        level: [
            {column: value.strip() for column, value in row.items()}
            for row in read_csv(data_dir / GAZETTEER_DIR / GAZETTEER_FILE.format(level=level))
        ]
        for level in RegionLevel
    }


def country_for_pcode(pcode: str) -> Any:
    """The ISO 3166-1 country of an admin0 p-code; OCHA's admin0 p-code is the alpha-2 code."""
    country = pycountry.countries.get(alpha_2=pcode)
    if country is None:
        raise SeedDataError(f"The admin0 p-code {pcode!r} is not an ISO 3166-1 alpha-2 code.")
    return country


def country_units(*, local_names: dict[str, str]) -> list[Unit]:
    """Every ISO 3166-1 country, coded and named as researchers know it (alpha-3, common name)."""
    units = []
    for country in pycountry.countries:
        name = getattr(country, "common_name", None) or country.name
        others = [country.name, getattr(country, "official_name", "")]
        units.append(
            Unit(
                code=country.alpha_3,
                iso_code=country.alpha_3,
                name=name,
                name_local=local_names.get(country.alpha_3, ""),
                level=RegionLevel.COUNTRY,
                other_names=others,
            )
        )
    return units


def iso_subdivision_units(*, skip_countries: set[str]) -> list[Unit]:
    """The first-level ISO 3166-2 units of every country whose admin1 is not loaded by p-code."""
    alpha_3 = {country.alpha_2: country.alpha_3 for country in pycountry.countries}
    return [
        Unit(
            code=sub.code,
            iso_code=sub.code,
            name=sub.name,
            level=RegionLevel.ADMIN1,
            parent_code=alpha_3[sub.country_code],
        )
        for sub in pycountry.subdivisions
        if sub.parent_code is None and sub.country_code not in skip_countries
    ]


def governorate_iso_codes(
    *, table: list[dict[str, str]], governorates: list[dict[str, str]], alpha_2: str
) -> dict[str, Any]:
    """The ISO 3166-2 unit of each governorate, checked both ways: any mismatch stops the seed.

    Each table row claims "p-code P, named N in the gazetteer, is ISO unit I, named M in ISO 3166-2";
    the names must match the gazetteer and pycountry, and the table must pair all of them one to one.
    """
    iso_units = {sub.code: sub for sub in pycountry.subdivisions.get(country_code=alpha_2) if sub.parent_code is None}
    names = {row["pcode"]: row["name_en"] for row in governorates}
    problems, paired = [], {}
    for row in table:
        pcode, iso_code = row["pcode"], row["iso_code"]
        if names.get(pcode) != row["name_en"].strip():
            problems.append(f"{pcode} {row['name_en']!r} is not a governorate of that name in the gazetteer")
        sub = iso_units.get(iso_code)
        if sub is None or sub.name != row["iso_name"]:
            problems.append(f"{iso_code} {row['iso_name']!r} is not a first-level ISO 3166-2 unit in pycountry")
        paired[pcode] = sub
    problems += [f"{pcode} has no ISO 3166-2 code in the table" for pcode in sorted(set(names) - set(paired))]
    used = [row["iso_code"] for row in table]
    problems += [f"{code} is not paired exactly once" for code in sorted(iso_units) if used.count(code) != 1]
    if problems:
        raise SeedDataError(
            f"{ISO_TABLE_FILE} does not match the gazetteer and ISO 3166-2:\n  " + "\n  ".join(problems)
        )
    return paired


def pcode_units(
    *, gazetteer: dict[int, list[dict[str, str]]], country_codes: dict[str, str], iso: dict[str, Any]
) -> list[Unit]:
    """Admin1 to admin4 by p-code; the admin0 p-code is replaced by the country's alpha-3 code."""
    units = []
    for level in list(RegionLevel)[1:]:
        for row in gazetteer[level]:
            sub = iso.get(row["pcode"]) if level == RegionLevel.ADMIN1 else None
            units.append(
                Unit(
                    code=row["pcode"],
                    iso_code=sub.code if sub else "",
                    name=row["name_en"],
                    name_local=row["name_ar"],
                    level=level,
                    parent_code=country_codes.get(row["parent_pcode"], row["parent_pcode"]),
                    other_names=[sub.name] if sub else [],
                )
            )
    return units


def add_alternate_names(*, units: list[Unit], spellings: dict[str, list[str]]) -> None:
    """Add the spellings of the data file; a code the gazetteer does not hold is a typo, and stops the seed."""
    by_code = {unit.code: unit for unit in units}
    unknown = sorted(set(spellings) - set(by_code))
    if unknown:
        raise SeedDataError(f"{ALTERNATE_NAMES_FILE} names regions that are not loaded: {', '.join(unknown)}")
    for code, names in spellings.items():
        by_code[code].other_names += names


def distinct_names(*, name: str, candidates: list[str]) -> list[str]:
    """The candidates in order, without blanks, repeats or the name itself (ignoring case)."""
    seen = {name.casefold()}
    names = []
    for candidate in (c.strip() for c in candidates if c):
        if candidate and candidate.casefold() not in seen:
            seen.add(candidate.casefold())
            names.append(candidate)
    return names
