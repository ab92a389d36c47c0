"""Period totals: what monitoring groups publish per month or week for each province, or for the whole country.

Each source keeps one rhythm per region, outcome, status and group, so its periods never overlap and can be
summed, as the exclusion constraint demands. Keys some real data already uses are left alone.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from casualties.choices import CasualtyGroup, CasualtyStatus, Outcome

from .rows import Figure
from .world import YEAR_WEIGHTS, World

WAR_START = datetime.date(2011, 3, 1)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Plan:
    source_position: int  # into World.total_sources
    rhythm: str  # "month" or "week"
    whole_country: bool
    status: str
    scale: float
    children: bool


PLANS = (
    Plan(0, "month", False, CasualtyStatus.CIVILIAN, 40, True),
    Plan(1, "month", True, CasualtyStatus.CIVILIAN, 300, False),
    Plan(1, "month", True, CasualtyStatus.COMBATANT, 200, False),
    Plan(2, "week", False, CasualtyStatus.UNKNOWN, 10, False),
)


@dataclass(frozen=True)
class PeriodTotal:
    region_id: int
    start: datetime.date
    end: datetime.date
    figure: Figure


def _periods(rhythm: str, today: datetime.date) -> Iterator[tuple[datetime.date, datetime.date]]:
    """Complete periods from the start of the war whose report (the day after) is not in the future."""
    start = WAR_START if rhythm == "month" else WAR_START + datetime.timedelta(days=(7 - WAR_START.weekday()) % 7)
    while True:
        if rhythm == "month":
            end = (start + datetime.timedelta(days=31)).replace(day=1) - DAY
        else:
            end = start + datetime.timedelta(days=6)
        if end + DAY > today:
            return
        yield start, end
        start = end + DAY


def period_spans(today: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """Every reporting period the period totals use."""
    return [span for rhythm in dict.fromkeys(plan.rhythm for plan in PLANS) for span in _periods(rhythm, today)]


def period_totals(world: World, rng: random.Random) -> Iterator[PeriodTotal]:
    for plan in PLANS:
        if plan.source_position >= len(world.total_sources):
            continue
        source_index = world.total_sources[plan.source_position]
        source_id = world.sources[source_index].id
        regions = [world.theatre] if plan.whole_country else world.theatre_provinces
        groups = [CasualtyGroup.ALL, CasualtyGroup.CHILDREN] if plan.children else [CasualtyGroup.ALL]
        regions = [
            region
            for region in regions
            if not any((source_id, region.id, Outcome.KILLED, plan.status, g) in world.taken_total_keys for g in groups)
        ]
        for start, end in _periods(plan.rhythm, world.today):
            report = (source_index, end + DAY)
            intensity = YEAR_WEIGHTS.get(start.year, 1) / 10
            for region in regions:
                best = round(rng.uniform(0, 2) * plan.scale * intensity)
                yield PeriodTotal(
                    region.id, start, end, Figure(report, Outcome.KILLED, plan.status, "all", best, best, best)
                )
                if plan.children and rng.random() < 0.3:
                    part = round(best * rng.uniform(0, 0.3))
                    figure = Figure(report, Outcome.KILLED, plan.status, CasualtyGroup.CHILDREN, part, part, part)
                    yield PeriodTotal(region.id, start, end, figure)


def period_label(start: datetime.date, end: datetime.date) -> str:
    if start.day == 1 and (end + DAY).day == 1:
        return f"{start:%B %Y}"
    return f"week of {start}"
