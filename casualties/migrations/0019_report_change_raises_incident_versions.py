"""A change to a report raises the version of every incident whose figures cite it (casualties/sql/report_sync.sql)."""

from django.db import migrations

from ._sql import frozen_sql


class Migration(migrations.Migration):
    dependencies = [
        ("casualties", "0018_search_folds_arabic_and_transliterations"),
        ("sources", "0003_report_created_by"),
    ]

    operations = [
        migrations.RunSQL(
            frozen_sql("0019_report_sync.sql", "2885096d01dfd97c16f3283dcb9e5ef9c9c6df45d77b99786b6bd1282f8db907"),
            reverse_sql=frozen_sql("0001_report_sync.sql", "0d68ef9c34b8802463448053cf046f0a42d01b07109e2c4ab2a12486b3ee8f98"),
        ),
    ]
