"""Bring databases migrated before it to today's summary functions: week and month buckets truncate the day as a
timestamp (independent of the session's time zone). Re-creates the functions and triggers only; the cells are
unchanged, since every connection of the service runs in UTC, where both forms agree."""

from django.db import migrations

from ._sql import frozen_sql


class Migration(migrations.Migration):
    dependencies = [("casualties", "0009_aggregate_summary")]

    operations = [
        migrations.RunSQL(
            frozen_sql("0010_summary.sql", "155c759ef7ec3cb65adf7c50d3a930407dc4e65c7f140cbe2f23d25a763c52f6"),
            reverse_sql=frozen_sql("0009_summary.sql", "002f6b619d1c1e4a007642f7857f58ddeb9670414dcc517789e6d76873add40f"),
        ),
    ]
