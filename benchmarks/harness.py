"""What a benchmark is, how it is timed, and how the results are shown and saved."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

NOT_AVAILABLE = "not available"


@dataclass
class Result:
    """One line of the table. ``ratio`` is service / baseline for times, service / baseline for throughputs."""

    name: str
    service: float | None = None  # ms, or rows/s for throughputs
    raw: float | None = None  # the same work done by PostgreSQL alone (or the baseline named in ``basis``)
    unit: str = "ms"
    basis: str = "raw SQL"
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""
    details: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.note == NOT_AVAILABLE:
            return NOT_AVAILABLE
        if self.passed is None:
            return "info"
        return "pass" if self.passed else "FAIL"


class NotAvailable(Exception):
    """The endpoint under test is not there (404) in this build."""


def median_ms(work: Callable[[], object], *, repeat: int, warmup: int = 1) -> float:
    """The median wall time of ``work`` in milliseconds, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def ratio_result(
    name: str, *, service: float, raw: float, limit: float, basis: str = "raw SQL", floor_ms: float | None = None
) -> Result:
    """A time compared with a baseline: passes at ``service / raw <= limit``, or under ``floor_ms`` if given."""
    ratio = service / raw if raw else None
    passed = ratio is not None and ratio <= limit
    target = f"<= {limit}x {basis}"
    if floor_ms is not None:
        passed = passed or service <= floor_ms
        target += f" or <= {floor_ms:g} ms"
    return Result(name, service=service, raw=raw, basis=basis, ratio=ratio, target=target, passed=passed)


def format_table(results: list[Result]) -> str:
    header = ("benchmark", "service", "baseline", "unit", "ratio", "target", "result")
    rows = [header]
    for r in results:
        rows.append(
            (
                r.name,
                _number(r.service),
                _number(r.raw),
                r.unit,
                f"{r.ratio:.2f}x" if r.ratio is not None else "",
                r.target,
                r.status if not r.note or r.note == NOT_AVAILABLE else f"{r.status} ({r.note})",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def write_json(path: Path, *, results: list[Result], context: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"context": context, "results": [asdict(r) | {"status": r.status} for r in results]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
