"""python -m benchmarks: time the service against PostgreSQL doing the same work, on the development database.

    python -m benchmarks --incidents 100000          # generate synthetic data first if there is less
    python -m benchmarks --only aggregate --repeat 9
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python -m benchmarks --json benchmarks/results/1m.json
    python -m benchmarks --growth benchmarks/results/100k.json benchmarks/results/1m.json

Prints a table and writes benchmarks/results/latest.json (or --json PATH) and the same as markdown (.md);
--growth writes the two runs side by side with the growth between them (benchmarks/results/growth.json, .md).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
GROUPS = ("write", "aggregate", "refused", "list", "detail", "admin", "duplicates", "export", "load")
GROWTH = RESULTS.parent / "growth.json"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, help="Generate synthetic data first when fewer synthetic incidents.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic data (default 1).")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"Where to write the results (default {RESULTS}).")
    parser.add_argument(
        "--only", action="append", help=f"Run only benchmarks whose group or name contains this {GROUPS}."
    )
    parser.add_argument("--repeat", type=int, default=5, help="Timed repetitions per measurement (median; default 5).")
    parser.add_argument("--load-seconds", type=int, default=10, help="Length of each load test (default 10 s).")
    parser.add_argument(
        "--growth",
        nargs=2,
        type=Path,
        metavar=("SMALL.json", "LARGE.json"),
        help=f"Run nothing: write the two runs' numbers and their growth to {GROWTH} or --json (and .md).",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.growth:
        from .harness import write_growth

        out = GROWTH if args.json == RESULTS else args.json
        write_growth(*args.growth, out)
        print(out.with_suffix(".md").read_text())
        return 0
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    # Generating a million rows takes minutes: a command's limits, not a request's (the gunicorn it starts serves).
    os.environ.setdefault("DATABASE_LIMITS", "command")
    from config.database_roles import use_owner_role
    from config.embedded_db import use_embedded_unless_configured

    use_embedded_unless_configured()
    # It loads synthetic data with the triggers off, which only the owner may (config/database_roles.py).
    use_owner_role()
    import django

    django.setup()
    import psycopg
    from django.db import DatabaseError, connection

    from benchmarks.synthetic import SyntheticDataError, synthetic_count, synthetic_delete, synthetic_generate

    from . import cases, writes
    from .harness import format_table, load_average, write_json
    from .server import Gunicorn

    try:
        loaded = synthetic_count()
    except DatabaseError as error:
        print(f"The database is not ready ({error}): run `make setup` (migrate and seed) first.", file=sys.stderr)
        return 2
    if args.incidents and loaded < args.incidents:
        from tqdm import tqdm

        print(f"Generating {args.incidents:,} synthetic incidents (seed {args.seed})...", file=sys.stderr)
        synthetic_delete()
        try:
            with tqdm(total=args.incidents, unit="incident", file=sys.stderr) as bar:
                synthetic_generate(
                    incidents=args.incidents, seed=args.seed, on_progress=bar.update, on_stage=bar.set_description
                )
        except SyntheticDataError as error:
            print(error, file=sys.stderr)
            return 2
    context = _context(connection)
    print(
        f"{context['incidents']:,} incidents, {context['tallies']:,} tallies on {context['database']};"
        f" load average {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )
    if not context["incidents"]:
        print("No incidents: pass --incidents N to generate synthetic data.", file=sys.stderr)
        return 2

    def wanted(group: str) -> bool:
        return not args.only or any(word in group for word in args.only)

    raw = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    bench = cases.Bench(repeat=args.repeat, raw=raw)
    cases.pick_samples(bench)
    results: list = []
    started = time.monotonic()

    def announce(new_results):
        """Show each result as it comes and keep the JSON current, so an interrupted run leaves what it measured."""
        for result in new_results:
            print(f"  {result.name}: {result.status}", file=sys.stderr)
            results.append(result)
            write_json(args.json, results=results, context=context | {"complete": False})

    context["load_before"] = load_average()
    for group, run in (
        ("write", writes.writes),
        ("aggregate", cases.aggregations),
        ("refused", cases.refused_aggregate),
        ("list", cases.lists),
        ("detail", cases.detail),
        ("admin", cases.admin_list),
        ("duplicates", cases.duplicates),
    ):
        if wanted(group):
            announce(run(bench))
    if wanted("export") or wanted("load"):
        with Gunicorn() as server:
            bench.server = server
            # Load first: a slow export could leave work behind that would weigh on it.
            if wanted("load"):
                announce(cases.load(bench, seconds=args.load_seconds))
            if wanted("export"):
                announce(cases.exports(bench))
    raw.close()
    context["seconds"] = round(time.monotonic() - started, 1)
    context["load_after"] = load_average()
    print()
    print(format_table(results))
    write_json(args.json, results=results, context=context | {"complete": True})
    print(f"\nWritten to {args.json}", file=sys.stderr)
    return 1 if any(r.passed is False for r in results) else 0


def _context(connection) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM casualties_incident), (SELECT count(*) FROM casualties_casualtytally),"
            " (SELECT count(*) FROM casualties_estimate), version(), current_database()"
        )
        incidents, tallies, estimates, version, database = cursor.fetchone()
    return {
        "incidents": incidents,
        "tallies": tallies,
        "estimates": estimates,
        "database": database,
        "postgresql": version,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    sys.exit(main())
