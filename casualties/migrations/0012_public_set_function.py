"""The public set as one SQL function, for the SQL that selects or sums it (casualties/sql/public_set.sql)."""

from django.db import migrations

from ._sql import frozen_sql


class Migration(migrations.Migration):
    dependencies = [("casualties", "0011_incident_versions_per_write_and_append_only_audit")]

    operations = [
        migrations.RunSQL(
            frozen_sql("0012_public_set.sql", "56a6552244e573641eba0adb6b3aa9e44e6453764dccddd57f944ad78ddb9654"),
            reverse_sql="DROP FUNCTION IF EXISTS casualties_incident_is_public(varchar, bigint);",
        ),
    ]
