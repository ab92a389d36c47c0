from django.core.management.base import BaseCommand, CommandError

from seeds.loaders import seed
from seeds.sync import SeedDataError


class Command(BaseCommand):
    help = (
        "Load the reference data (countries and ISO 3166-2 admin1, the Syria p-code gazetteer, sources, actors, "
        "incident types); with --demo, also the demo dataset. Safe to re-run: only missing or changed rows are written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Also load the demo dataset from fixtures/.")

    def handle(self, *args, demo: bool, **options):
        try:
            results = seed(demo=demo)
        except SeedDataError as error:
            raise CommandError(f"Nothing was loaded: {error}") from error
        for result in results:
            self.stdout.write(str(result))
        left_alone = [line for result in results for line in result.left_alone]
        if left_alone:
            self.stdout.write(
                self.style.WARNING(f"Left alone, {len(left_alone)} row(s) that someone changed or that would clash:")
            )
            for line in left_alone:
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Seed complete."))
