"""What the seeds wrote: one record per entry of a data file, so a re-run knows its rows whatever was edited since."""

from django.db import models


class SeedRecord(models.Model):
    """The row a seed wrote for one entry of its data, and the values it wrote there.

    A re-run finds its rows here, not by values a user may have edited. A row whose values are no longer
    those recorded was changed by someone after the seed wrote it, and the seed leaves it alone.
    """

    model = models.CharField(max_length=100, help_text="The table's model, as app_label.ModelName.")
    key = models.TextField(help_text="The entry's key in the data file, as JSON.")
    object_id = models.BigIntegerField(help_text="The primary key of the row written for the entry.")
    seeded = models.JSONField(help_text="The values the seed last wrote to the row, by column.")
    seeded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="seeds_one_record_per_entry")]

    def __str__(self) -> str:
        return f"{self.model} {self.key}"
