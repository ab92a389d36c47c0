"""The reference data synthetic incidents are drawn from, with the weights that make them look like a war.

Regions come from the loaded gazetteer at every level. One country, the one with the most units
(Syria once the p-codes are loaded), is the theatre: most incidents fall in it, at every level down to
communities, the rest in other countries' provinces. Time has a yearly intensity and bursts: a few
dozen offensives, each a stretch of days in one province that draws a share of the incidents.
"""

from __future__ import annotations

import bisect
import datetime
import random
from dataclasses import dataclass, field

from casualties.choices import LocationPrecision

from .copy import copy_text

# Relative intensity by year (the shape of the Syrian war: a rise to 2016, a long tail after).
YEAR_WEIGHTS = {
    2011: 2, 2012: 8, 2013: 10, 2014: 10, 2015: 10, 2016: 11, 2017: 7, 2018: 6,
    2019: 5, 2020: 4, 2021: 3, 2022: 3, 2023: 3, 2024: 3, 2025: 2, 2026: 2,
}  # fmt: skip
# Share of incidents by where they are: the theatre's units by level, and other countries' provinces.
PLACE_SHARES = {"theatre-0": 2, "theatre-1": 15, "theatre-2": 20, "theatre-3": 25, "theatre-4": 25, "abroad-1": 13}
BURSTS = 60
BURST_SHARE = 0.3
SOURCE_KIND_WEIGHTS = {"monitoring_group": 5, "news_media": 3, "international": 2, "ngo": 2}
PRECISION_FOR_LEVEL = {
    0: LocationPrecision.COUNTRY,
    1: LocationPrecision.ADMIN1,
    2: LocationPrecision.ADMIN2,
    3: LocationPrecision.ADMIN3,
}


@dataclass(frozen=True)
class Place:
    id: int
    code: str
    name: str  # escaped for COPY
    level: int
    precision: str
    lat: float  # a stand-in centroid for points; the gazetteer has none
    lon: float


@dataclass(frozen=True)
class Named:
    id: int
    name: str  # escaped for COPY


class Picker:
    """Draws items by weight with one random number and a binary search."""

    def __init__(self, items: list, weights: list[float]):
        if not items:
            raise ValueError("nothing to pick from")
        self.items = items
        self.cum = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random):
        return self.items[min(bisect.bisect_right(self.cum, rng.random() * self.total), len(self.items) - 1)]


@dataclass
class World:
    places: Picker
    days: Picker
    bursts: list[tuple[Picker, datetime.date, int]]
    incident_types: Picker
    sources: list[Named]
    source_picker: Picker
    actors: list[int]
    theatre: Place
    total_sources: list[int]
    theatre_provinces: list[Place]
    taken_total_keys: set[tuple] = field(default_factory=set)
    periods: dict[tuple[datetime.date, datetime.date], int] = field(default_factory=dict)
    today: datetime.date = datetime.date.max

    def place_and_day(self, rng: random.Random) -> tuple[Place, datetime.date]:
        if self.bursts and rng.random() < BURST_SHARE:
            places, start, length = self.bursts[rng.randrange(len(self.bursts))]
            day = start + datetime.timedelta(days=rng.randrange(length))
            return places(rng), min(day, self.today)
        return self.places(rng), self.days(rng)

    def pick_sources(self, rng: random.Random, count: int) -> list[int]:
        """``count`` distinct source indexes, by weight."""
        count = min(count, len(self.sources))
        chosen: list[int] = []
        while len(chosen) < count:
            index = self.source_picker(rng)
            if index not in chosen:
                chosen.append(index)
        return chosen


class NoReferenceData(Exception):
    pass


def world_load(cursor, *, seed: int, today: datetime.date) -> World:
    """Read the reference data (in a stable order, so a seed always gives the same rows) and weigh it."""
    rng = random.Random(f"world-{seed}")
    cursor.execute("SELECT id, code, name, level, path, latitude, longitude FROM casualties_region ORDER BY path")
    regions = cursor.fetchall()
    cursor.execute("SELECT id, name, kind FROM sources_source ORDER BY name")
    sources = cursor.fetchall()
    cursor.execute("SELECT id, name FROM casualties_incidenttype ORDER BY code")
    kinds = cursor.fetchall()
    missing = [
        what for what, rows in (("regions", regions), ("sources", sources), ("incident types", kinds)) if not rows
    ]
    if missing:
        raise NoReferenceData(f"No {', '.join(missing)} in the database: run `manage.py seed` first.")
    cursor.execute("SELECT id FROM casualties_actor ORDER BY name")
    actors = [row[0] for row in cursor.fetchall()]

    theatre_code = _theatre_code(regions)
    places: dict[str, list[Place]] = {share: [] for share in PLACE_SHARES}
    by_path: list[tuple[str, Place]] = []
    for region_id, code, name, level, path, lat, lon in regions:
        inside = path.startswith(f"{theatre_code}/")
        where = random.Random(code)
        place = Place(
            id=region_id,
            code=code,
            name=copy_text(name),
            level=level,
            precision=PRECISION_FOR_LEVEL.get(level, LocationPrecision.NEAR),
            lat=float(lat) if lat is not None else where.uniform(32.8, 36.8),
            lon=float(lon) if lon is not None else where.uniform(36.2, 41.8),
        )
        share = f"theatre-{level}" if inside else f"abroad-{level}"
        if share in places:
            places[share].append(place)
        if inside:
            by_path.append((path, place))
    activity = {place.id: rng.lognormvariate(0, 1) for group in places.values() for place in group}
    place_items, place_weights = [], []
    for share, group in places.items():
        group_activity = sum(activity[place.id] for place in group)
        for place in group:
            place_items.append(place)
            place_weights.append(PLACE_SHARES[share] * activity[place.id] / group_activity)

    theatre = next(place for path, place in by_path if place.level == 0)
    provinces = [place for path, place in by_path if place.level == 1]
    world = World(
        places=Picker(place_items, place_weights),
        days=_day_picker(today),
        bursts=[],
        incident_types=Picker(
            [Named(i, copy_text(name)) for i, name in kinds], [rng.lognormvariate(0, 1) for _ in kinds]
        ),
        sources=[Named(i, copy_text(name)) for i, name, _ in sources],
        source_picker=Picker(list(range(len(sources))), [SOURCE_KIND_WEIGHTS.get(kind, 1) for *_, kind in sources]),
        actors=actors,
        theatre=theatre,
        # Period totals come from monitoring groups, as they do in practice.
        total_sources=(
            [i for i, (*_, kind) in enumerate(sources) if kind == "monitoring_group"] or list(range(len(sources)))
        )[:3],
        theatre_provinces=provinces,
        today=today,
    )
    world.bursts = _bursts(rng, world, by_path, provinces, activity)
    cursor.execute(
        "SELECT DISTINCT source_id, region_id, outcome, status, casualty_group FROM casualties_casualtytally"
        " WHERE region_id IS NOT NULL"
    )
    world.taken_total_keys = set(cursor.fetchall())
    cursor.execute("SELECT date_start, date_end, id FROM casualties_reportingperiod")
    world.periods = {(start, end): period_id for start, end, period_id in cursor.fetchall()}
    return world


def _theatre_code(regions: list[tuple]) -> str:
    """The country with the most units below it."""
    counts: dict[str, int] = {}
    for *_, path, _lat, _lon in regions:
        country = path.split("/", 1)[0]
        counts[country] = counts.get(country, 0) + 1
    return max(sorted(counts), key=lambda code: counts[code])


def _day_picker(today: datetime.date) -> Picker:
    first = datetime.date(2011, 1, 1)
    days = [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]
    return Picker(days, [YEAR_WEIGHTS.get(day.year, 1) for day in days])


def _bursts(rng, world: World, by_path, provinces, activity) -> list[tuple[Picker, datetime.date, int]]:
    """Offensives: a province, a first day and a length; incidents in them fall anywhere in the province."""
    if not provinces:
        return []
    bursts = []
    province_picker = Picker(provinces, [activity[p.id] for p in provinces])
    for _ in range(BURSTS):
        province = province_picker(rng)
        prefix = next(path for path, place in by_path if place.id == province.id)
        inside = [place for path, place in by_path if path.startswith(prefix)]
        picker = Picker(inside, [activity[place.id] * (1 + place.level) for place in inside])
        bursts.append((picker, world.days(rng), rng.randint(3, 45)))
    return bursts
