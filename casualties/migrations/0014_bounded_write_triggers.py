"""Writes and repairs that touch a bounded number of rows whatever the table size: the of-which check looks up
the figures of its row's key in the unique indexes instead of joining every tally; the summary's expected cells,
rebuild and drift are set-based queries instead of one array of every delta (which passed PostgreSQL's 1 GB
value limit at about 2 million incidents). The cells are unchanged. An index of the incidents' date spans and
regions bounds the possible duplicates' candidates."""

import django.contrib.postgres.fields.ranges
import django.contrib.postgres.indexes
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from ._sql import frozen_sql



class Migration(migrations.Migration):

    dependencies = [
        ('casualties', '0012_public_set_function'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='casualtytally',
            name='tally_subgroup_within_all',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='casualtytally',
            trigger=pgtrigger.compiler.Trigger(name='tally_subgroup_within_all', sql=pgtrigger.compiler.UpsertTriggerSql(constraint='CONSTRAINT', func="\n                DECLARE t casualties_casualtytally; clash record;\n                BEGIN\n                  SELECT * INTO t FROM casualties_casualtytally WHERE id = NEW.id;\n                  IF NOT FOUND THEN\n                    RETURN NULL;\n                  END IF;\n                  WITH same_key AS MATERIALIZED (\n                    SELECT x.* FROM casualties_casualtytally x\n                     WHERE x.report_id = t.report_id AND x.incident_id = t.incident_id\n                       AND x.outcome = t.outcome AND x.status = t.status\n                    UNION ALL\n                    SELECT x.* FROM casualties_casualtytally x\n                     WHERE x.report_id = t.report_id AND x.region_id = t.region_id\n                       AND x.reporting_period_id = t.reporting_period_id\n                       AND x.outcome = t.outcome AND x.status = t.status\n                  )\n                  SELECT sub.id AS sub_id, sub.casualty_group, sub.best AS sub_best, sub.high AS sub_high,\n                         total.id AS all_id, total.best AS all_best, total.high AS all_high\n                    INTO clash\n                    FROM same_key sub\n                    JOIN same_key total ON total.casualty_group = 'all' AND sub.casualty_group <> 'all'\n                   WHERE (sub.id = t.id OR total.id = t.id)\n                     AND (sub.best > total.best OR sub.high > total.high)\n                   ORDER BY sub.id\n                   LIMIT 1;\n                  IF FOUND THEN\n                    RAISE EXCEPTION\n                      'tally %: the % figure (best %, high %) exceeds the all figure of tally % (best %, high %)',\n                      clash.sub_id, clash.casualty_group, clash.sub_best, clash.sub_high,\n                      clash.all_id, clash.all_best, clash.all_high\n                      USING ERRCODE = 'check_violation';\n                  END IF;\n                  RETURN NULL;\n                END;\n                ", hash='2fb0fe2f1ae468b2529a2ab9a496cb449b682dd0', operation='INSERT OR UPDATE', pgid='pgtrigger_tally_subgroup_within_all_c5c22', table='casualties_casualtytally', timing='DEFERRABLE INITIALLY DEFERRED', when='AFTER')),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=django.contrib.postgres.indexes.GistIndex(models.Func(models.F('date_start'), models.F('date_end'), output_field=django.contrib.postgres.fields.ranges.DateRangeField(), template="daterange(%(expressions)s, '[]')"), models.F('region'), name='casualties_incident_span'),
        ),
        migrations.RunSQL(
            frozen_sql("0014_summary.sql", "be9a1f1800f81022d0c3f565744161b38a56b49ab50121cfa76df8c94c3ae05e"),
            reverse_sql=[
                frozen_sql("0010_summary.sql", "155c759ef7ec3cb65adf7c50d3a930407dc4e65c7f140cbe2f23d25a763c52f6"),
                "DROP FUNCTION casualties_summary_buckets(date); DROP FUNCTION casualties_summary_level(varchar);",
            ],
        ),
    ]
