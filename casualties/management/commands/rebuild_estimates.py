from django.core.management.base import BaseCommand

from casualties.services import estimates_rebuild


class Command(BaseCommand):
    help = "Recompute every incident's estimates from its tallies (they are normally kept current by triggers)."

    def handle(self, *args, **options):
        count = estimates_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {count} estimates."))
