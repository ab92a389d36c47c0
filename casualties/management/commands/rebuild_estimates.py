from django.core.management.base import BaseCommand
from django.db import transaction

from casualties.services import estimates_rebuild, summary_rebuild, summary_suspend


class Command(BaseCommand):
    help = (
        "Recompute every incident's estimates from its tallies, then the aggregate summary from the incidents and "
        "estimates (both are normally kept current by triggers), in one transaction."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            # The summary may be what needs repairing: its upkeep waits for the rebuild below.
            summary_suspend()
            estimates = estimates_rebuild()
            cells = summary_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {estimates} estimates and {cells} summary cells."))
