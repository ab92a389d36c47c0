"""What a benchmark is, how it is timed, and how the results are shown and saved."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
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
    baseline: str = ""  # what the baseline does, in one line
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
    """The results as JSON at ``path`` and as a markdown table beside it (the same name, ``.md``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"context": context, "results": [asdict(r) | {"status": r.status} for r in results]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    path.with_suffix(".md").write_text(format_markdown(payload))


def load_average() -> dict:
    """The machine's load (what ``uptime`` prints) at this moment."""
    one, five, fifteen = os.getloadavg()
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        uptime = ""
    return {"load_1m": one, "load_5m": five, "load_15m": fifteen, "uptime": uptime}


def _context_line(context: dict) -> str:
    before, after = context.get("load_before") or {}, context.get("load_after") or {}
    load = f"load average {before.get('load_1m', 0):.2f} at the start"
    if after:
        load += f", {after.get('load_1m', 0):.2f} at the end"
    return (
        f"{context.get('incidents', 0):,} incidents, {context.get('tallies', 0):,} tallies on "
        f"`{context.get('database')}`, started {context.get('started_at')}, {context.get('seconds', '?')} s; {load}"
        f" (`uptime`: {before.get('uptime', '')})"
    )


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def format_markdown(payload: dict) -> str:
    """One run as a markdown table: every case with its baseline's one-line description."""
    lines = [
        f"Run: {_context_line(payload['context'])}.",
        "",
        "| benchmark | service | baseline | ratio | target | result | the baseline |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for r in payload["results"]:
        unit = r["unit"]
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ""
        status = r["status"] if not r["note"] else f"{r['status']} ({r['note']})"
        lines.append(
            f"| {_cell(r['name'])} | {_with_unit(r['service'], unit)} | {_with_unit(r['raw'], unit)} | {ratio} | "
            f"{_cell(r['target'])} | {_cell(status)} | {_cell(r.get('baseline') or r['basis'])} |"
        )
    return "\n".join(lines) + "\n"


def _with_unit(value: float | None, unit: str) -> str:
    return "" if value is None else f"{_number(value)} {unit}"


# A write must not cost more as the tables grow: at most this growth for ten times the data.
WRITE_GROWTH_LIMIT = 1.5


def growth(small: dict, large: dict) -> dict:
    """Each case of two runs side by side, with the growth of the service's number (large / small); the writes
    are held to WRITE_GROWTH_LIMIT."""
    by_name = {r["name"]: r for r in small["results"]}
    rows = []
    for r in large["results"]:
        s = by_name.get(r["name"])
        if s is None:
            continue
        grew = r["service"] / s["service"] if s["service"] and r["service"] is not None else None
        held = r["name"].startswith("write:")
        rows.append(
            {
                "name": r["name"],
                "unit": r["unit"],
                "small": s["service"],
                "large": r["service"],
                "growth": grew,
                "growth_target": f"<= {WRITE_GROWTH_LIMIT:g}x" if held else "",
                "growth_passed": (grew is not None and grew <= WRITE_GROWTH_LIMIT) if held else None,
                "small_ratio": s["ratio"],
                "large_ratio": r["ratio"],
                "small_status": s["status"],
                "large_status": r["status"],
                "baseline": r.get("baseline") or r["basis"],
            }
        )
    return {"small": small["context"], "large": large["context"], "rows": rows}


def format_growth_markdown(table: dict) -> str:
    small, large = table["small"], table["large"]
    lines = [
        f"Small run: {_context_line(small)}.",
        f"Large run: {_context_line(large)}.",
        "",
        f"| benchmark | {small.get('incidents', 0):,} | ratio | {large.get('incidents', 0):,} | ratio | growth |"
        " growth target | result at the large size |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in table["rows"]:
        ratio = lambda v: f"{v:.2f}x" if v is not None else ""  # noqa: E731
        growth = f"{row['growth']:.2f}x" if row["growth"] is not None else ""
        held = {True: " pass", False: " FAIL", None: ""}[row.get("growth_passed")]
        lines.append(
            f"| {_cell(row['name'])} | {_with_unit(row['small'], row['unit'])} | {ratio(row['small_ratio'])} | "
            f"{_with_unit(row['large'], row['unit'])} | {ratio(row['large_ratio'])} | {growth} | "
            f"{row.get('growth_target', '')}{held} | {row['large_status']} |"
        )
    return "\n".join(lines) + "\n"


def write_growth(small_path: Path, large_path: Path, out: Path) -> dict:
    """The growth table of two result files, as JSON at ``out`` and markdown beside it."""
    table = growth(json.loads(small_path.read_text()), json.loads(large_path.read_text()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=2, default=str) + "\n")
    out.with_suffix(".md").write_text(format_growth_markdown(table))
    return table
