"""From a seeded random stream to COPY lines: incidents, their actors, their reports' figures, period totals."""

from __future__ import annotations

import bisect
import datetime
import math
import random
import uuid
from collections.abc import Callable
from typing import NamedTuple

from casualties.choices import (
    ActorRole,
    CasualtyGroup,
    CasualtyStatus,
    DatePrecision,
    LocationPrecision,
    Outcome,
    Qualifier,
    ReviewStatus,
)

from .copy import NULL, timestamp
from .world import World

EXTERNAL_ID_PREFIX = "synthetic-"
TITLE_PREFIX = "[synthetic] "
FIRST_DAY = datetime.date(2011, 1, 1)
REPORT_HOST = "https://reports.synthetic.invalid"


def _weighted(weights: dict) -> Callable[[random.Random], object]:
    keys, cum, total = list(weights), [], 0.0
    for key in keys:
        total += weights[key]
        cum.append(total)
    return lambda rng: keys[bisect.bisect_right(cum, rng.random() * total)]


pick_status = _weighted(
    {ReviewStatus.VERIFIED: 80, ReviewStatus.SUBMITTED: 7, ReviewStatus.DRAFT: 7, ReviewStatus.REJECTED: 6}
)
pick_date_precision = _weighted(
    {
        DatePrecision.DAY: 70,
        DatePrecision.DAYS: 12,
        DatePrecision.WEEK: 8,
        DatePrecision.MONTH: 7,
        DatePrecision.YEAR: 3,
    }
)
pick_report_count = _weighted({1: 35, 2: 30, 3: 20, 4: 15})
pick_qualifier = _weighted(
    {Qualifier.EXACT: 50, Qualifier.APPROXIMATELY: 25, Qualifier.AT_LEAST: 15, Qualifier.UP_TO: 5, Qualifier.AT_MOST: 5}
)
pick_casualty_status = _weighted(
    {CasualtyStatus.CIVILIAN: 55, CasualtyStatus.UNKNOWN: 25, CasualtyStatus.COMBATANT: 20}
)
DUPLICATE_SHARE = 0.01
PHRASES = {
    Qualifier.EXACT: "{n} {who} {what}",
    Qualifier.APPROXIMATELY: "about {n} {who} {what}",
    Qualifier.AT_LEAST: "at least {n} {who} {what}",
    Qualifier.UP_TO: "up to {n} {who} {what}",
    Qualifier.AT_MOST: "no more than {n} {who} {what}",
}
WHO = {CasualtyStatus.CIVILIAN: "civilians", CasualtyStatus.COMBATANT: "fighters", CasualtyStatus.UNKNOWN: "people"}


class Figure(NamedTuple):
    """One tally before its report has an id: the report is (source index, published on)."""

    report: tuple[int, datetime.date]
    outcome: str
    status: str
    group: str
    low: int
    best: int
    high: int
    qualifier: str = Qualifier.EXACT
    is_preferred: bool = False


class RowMaker:
    """Everything drawn from the random stream, in one fixed order, so a seed always gives the same rows."""

    def __init__(self, *, world: World, seed: int, now: datetime.datetime):
        self.world = world
        self.rng = random.Random(seed)
        self.today = world.today
        self.now = now
        self.counter = 0

    def dates(self, start: datetime.date) -> tuple[datetime.date, datetime.date, str]:
        rng = self.rng
        precision = pick_date_precision(rng)
        if precision == DatePrecision.DAY:
            end = start
        elif precision == DatePrecision.DAYS:
            end = start + datetime.timedelta(days=rng.randint(1, 5))
        elif precision == DatePrecision.WEEK:
            end = start + datetime.timedelta(days=6)
        elif precision == DatePrecision.MONTH:
            start = start.replace(day=1)
            end = (start + datetime.timedelta(days=31)).replace(day=1) - datetime.timedelta(days=1)
        else:
            start = start.replace(month=1, day=1)
            end = start.replace(month=12, day=31)
        return start, min(end, self.today), precision

    def incident(self, incident_id: int, first_id: int) -> tuple[str, list[str], list[Figure], str]:
        """An incident's COPY line, its actors' lines, its figures and its creation time.

        Ids run on from ``first_id`` in the order incidents are made; a merged duplicate points at an earlier one.
        """
        rng, world = self.rng, self.world
        self.counter += 1
        region, day = world.place_and_day(rng)
        start, end, date_precision = self.dates(day)
        kind = world.incident_types(rng)
        status = pick_status(rng)
        duplicate_of = NULL
        made_before = incident_id - first_id
        if made_before and status == ReviewStatus.VERIFIED and rng.random() < DUPLICATE_SHARE:
            duplicate_of = first_id + rng.randrange(made_before)
        lat = lon = NULL
        if region.level == 4 or (region.level >= 2 and rng.random() < 0.1):
            location_precision = LocationPrecision.EXACT if rng.random() < 0.5 else LocationPrecision.NEAR
            lat, lon = f"{region.lat + rng.uniform(-0.02, 0.02):.6f}", f"{region.lon + rng.uniform(-0.02, 0.02):.6f}"
        else:
            location_precision = region.precision
        created_on = datetime.datetime.combine(
            end + datetime.timedelta(days=rng.randint(0, 10)), datetime.time(rng.randrange(24), rng.randrange(60))
        )
        created_at = min(created_on.replace(tzinfo=datetime.UTC), self.now)
        created = timestamp(created_at)
        reviewed = NULL
        if status in (ReviewStatus.VERIFIED, ReviewStatus.REJECTED):
            reviewed = timestamp(min(created_at + datetime.timedelta(hours=rng.randint(1, 72)), self.now))
        public_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        place = region.name if rng.random() < 0.6 else ""
        line = (
            f"{incident_id}\t{public_id}\t{TITLE_PREFIX}{kind.name} in {region.name}\t\t{start}\t{end}\t"
            f"{date_precision}\t{region.id}\t{place}\t{lat}\t{lon}\t{location_precision}\t{kind.id}\t{status}\t"
            f"{duplicate_of}\t{EXTERNAL_ID_PREFIX}{self.counter}\t1\t{reviewed}\t{created}\t{created}\n"
        )
        figures = self.figures(end=end, verified=status == ReviewStatus.VERIFIED)
        return line, self.actors(incident_id), figures, created

    def actors(self, incident_id: int) -> list[str]:
        rng, actors = self.rng, self.world.actors
        if not actors:
            return []
        draw = rng.random()
        if draw < 0.5:
            return [f"{ActorRole.PERPETRATOR}\t{actors[rng.randrange(len(actors))]}\t{incident_id}\n"]
        if draw < 0.85 and len(actors) > 1:
            side_a, side_b = rng.sample(actors, 2)
            return [f"{ActorRole.SIDE_A}\t{side_a}\t{incident_id}\n", f"{ActorRole.SIDE_B}\t{side_b}\t{incident_id}\n"]
        return []

    def bounds(self, truth: int) -> tuple[int, int, int, str]:
        """A report's low, best, high and qualifier for a true number: reports disagree and hedge."""
        rng = self.rng
        best = max(0, round(truth * rng.uniform(0.7, 1.2)))
        qualifier = pick_qualifier(rng)
        if qualifier == Qualifier.APPROXIMATELY:
            low, high = math.floor(best * 0.8), math.ceil(best * 1.2)
        elif qualifier in (Qualifier.UP_TO, Qualifier.AT_MOST):
            low, high = best // 2, best
        else:
            low = high = best
        return low, best, high, qualifier

    def figures(self, *, end: datetime.date, verified: bool) -> list[Figure]:
        """The figures of 1-4 reports from distinct sources, each published up to 3 days after the incident."""
        rng = self.rng
        killed = 0 if rng.random() < 0.1 else min(int(rng.paretovariate(1.1)), 3000)
        injured = round(killed * rng.uniform(0.5, 3)) + rng.randint(0, 3)
        primary = pick_casualty_status(rng)
        other = CasualtyStatus.COMBATANT if primary != CasualtyStatus.COMBATANT else CasualtyStatus.CIVILIAN
        other_killed = rng.randint(0, 10)
        sources = self.world.pick_sources(rng, pick_report_count(rng))
        preferred = verified and len(sources) > 1 and rng.random() < 0.2
        figures = []
        for position, source in enumerate(sources):
            report = (source, min(end + datetime.timedelta(days=rng.randint(0, 3)), self.today))
            low, best, high, qualifier = self.bounds(killed)
            figures.append(
                Figure(
                    report,
                    Outcome.KILLED,
                    primary,
                    CasualtyGroup.ALL,
                    low,
                    best,
                    high,
                    qualifier,
                    position == 0 and preferred,
                )
            )
            for group, share, chance in ((CasualtyGroup.CHILDREN, 0.4, 0.3), (CasualtyGroup.WOMEN, 0.3, 0.2)):
                if rng.random() < chance and best > 0:
                    part = min(best, round(best * rng.uniform(0, share)))
                    figures.append(Figure(report, Outcome.KILLED, primary, group, part, part, part))
            if rng.random() < 0.55:
                figures.append(Figure(report, Outcome.INJURED, primary, CasualtyGroup.ALL, *self.bounds(injured)))
            if rng.random() < 0.3:
                figures.append(Figure(report, Outcome.KILLED, other, CasualtyGroup.ALL, *self.bounds(other_killed)))
            if rng.random() < 0.05:
                figures.append(
                    Figure(report, Outcome.MISSING, primary, CasualtyGroup.ALL, *self.bounds(rng.randint(1, 20)))
                )
        return figures


def figure_line(figure: Figure, *, report_id: int, source_id: int, target: str, created: str) -> str:
    """A tally's COPY line; ``target`` is "incident_id, region_id, reporting_period_id, period" already joined."""
    phrase = ""
    if figure.group == CasualtyGroup.ALL:
        phrase = PHRASES[figure.qualifier].format(n=figure.best, who=WHO[figure.status], what=figure.outcome)
    return (
        f"{report_id}\t{source_id}\t{target}\t{figure.outcome}\t{figure.status}\t{figure.group}\t"
        f"{figure.low}\t{figure.best}\t{figure.high}\t{figure.qualifier}\t{phrase}\t"
        f"{'t' if figure.is_preferred else 'f'}\t\t{created}\t{created}\n"
    )


def report_line(
    report_id: int, *, source_id: int, source_index: int, source_name: str, published_on: datetime.date
) -> str:
    created = f"{published_on} 12:00:00+00"
    return (
        f"{report_id}\t{source_id}\t{TITLE_PREFIX}{source_name}, report of {published_on}\t"
        f"{REPORT_HOST}/{source_index}/{published_on}\t\t{published_on}\t{'ar' if source_index % 2 else 'en'}\t"
        f"{EXTERNAL_ID_PREFIX}{source_index}-{published_on}\t\t{NULL}\t{created}\t{created}\n"
    )
