"""The summary's functions name the public set by its one SQL function (casualties_incident_is_public) instead of
spelling it out; the same condition, inlined by PostgreSQL, so the cells are unchanged."""

from django.db import migrations

from ._sql import frozen_sql


class Migration(migrations.Migration):
    dependencies = [("casualties", "0014_bounded_write_triggers")]

    operations = [
        migrations.RunSQL(
            frozen_sql("0015_summary.sql", "c4db98006f131c0dab93c321bef41340a847f6126af5ff094da24563eb14c122"),
            reverse_sql=frozen_sql(
                "0014_summary.sql", "be9a1f1800f81022d0c3f565744161b38a56b49ab50121cfa76df8c94c3ae05e"
            ),
        ),
    ]
