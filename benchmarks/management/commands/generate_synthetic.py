import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from benchmarks.synthetic import (
    SyntheticDataError,
    synthetic_check,
    synthetic_count,
    synthetic_delete,
    synthetic_generate,
)


class Command(BaseCommand):
    help = (
        "Load synthetic incidents, reports, figures and period totals for benchmarks (deterministic for a seed; "
        "needs the reference data of `manage.py seed`). Audit and upkeep triggers are off during the load; "
        "estimates are rebuilt and every invariant is checked before anything is kept. --delete removes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=10_000, help="How many incidents (default 10000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--replace", action="store_true", help="Remove the synthetic data already loaded before generating."
        )
        parser.add_argument("--delete", action="store_true", help="Only remove the synthetic data.")
        parser.add_argument("--check", action="store_true", help="Only count the rows breaking each invariant.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, incidents, seed, replace, delete, check, no_progress, **options):
        if check:
            return self.check_invariants()
        if delete or replace:
            started = time.monotonic()
            try:
                deleted = synthetic_delete()
            except SyntheticDataError as error:
                raise CommandError(str(error)) from error
            summary = ", ".join(f"{count} {name}" for name, count in deleted.items())
            self.stdout.write(f"Removed {summary} in {time.monotonic() - started:.1f} s.")
            if delete:
                return
        if incidents < 1:
            raise CommandError("--incidents must be at least 1.")
        started = time.monotonic()
        with tqdm(total=incidents, unit="incident", disable=no_progress, file=sys.stderr) as bar:
            try:
                result = synthetic_generate(
                    incidents=incidents, seed=seed, on_progress=bar.update, on_stage=bar.set_description
                )
            except SyntheticDataError as error:
                raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.incidents} incidents, {result.reports} reports, {result.tallies} tallies "
                f"({result.period_totals} period totals), {result.incident_actors} actor roles "
                f"in {time.monotonic() - started:.1f} s (seed {seed}); all {len(result.checks)} invariant checks pass."
            )
        )
        self.stdout.write(f"Synthetic incidents in the database: {synthetic_count()}")

    def check_invariants(self) -> None:
        counts = synthetic_check()
        for name, count in counts.items():
            self.stdout.write(f"{count:>10}  {name}")
        broken = [name for name, count in counts.items() if count]
        if broken:
            raise CommandError(f"{len(broken)} invariant(s) broken: {', '.join(broken)}")
        self.stdout.write(self.style.SUCCESS("Every invariant holds."))
