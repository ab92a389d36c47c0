"""Search folds Arabic spellings and Latin transliterations in the database (casualties/sql/search.sql)."""

import casualties.search
import django.contrib.postgres.indexes
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

from ._sql import frozen_sql


class Migration(migrations.Migration):

    dependencies = [
        ('casualties', '0017_span_index_on_the_dates_alone'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # casualties/sql/search.sql: the folding, before the indexes and the trigger that use it.
        migrations.RunSQL(
            frozen_sql("0018_search.sql", "b7b9eae2366b255508d98ea7ead25af8da80947e934cc5a01a6b2f8e3aa0514c"),
            reverse_sql="DROP FUNCTION IF EXISTS casualties_search_text(text);",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='region',
            name='region_path',
        ),
        migrations.RemoveIndex(
            model_name='actor',
            name='casualties_actor_name_trgm',
        ),
        migrations.RemoveIndex(
            model_name='actorname',
            name='casualties_actorname_trgm',
        ),
        migrations.RemoveIndex(
            model_name='incident',
            name='casualties_incident_title_trgm',
        ),
        migrations.RemoveIndex(
            model_name='incident',
            name='casualties_incident_descr_trgm',
        ),
        migrations.RemoveIndex(
            model_name='incident',
            name='casualties_incident_place_trgm',
        ),
        migrations.AlterField(
            model_name='region',
            name='search_names',
            field=models.TextField(default='', editable=False, help_text='All names, folded for search.'),
        ),
        migrations.AlterField(
            model_name='regionevent',
            name='search_names',
            field=models.TextField(default='', editable=False, help_text='All names, folded for search.'),
        ),
        migrations.AddIndex(
            model_name='actor',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(casualties.search.SearchText('name'), name='gin_trgm_ops'), name='casualties_actor_name_fold'),
        ),
        migrations.AddIndex(
            model_name='actorname',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(casualties.search.SearchText('name'), name='gin_trgm_ops'), name='casualties_actorname_fold'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(casualties.search.SearchText('title'), name='gin_trgm_ops'), name='casualties_incident_title_fold'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(casualties.search.SearchText('description'), name='gin_trgm_ops'), name='casualties_incident_descr_fold'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(casualties.search.SearchText('place_name'), name='gin_trgm_ops'), name='casualties_incident_place_fold'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='region',
            trigger=pgtrigger.compiler.Trigger(name='region_path', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n                DECLARE parent_path text; parent_level smallint;\n                BEGIN\n                  IF NEW.parent_id IS NULL THEN\n                    NEW.path := NEW.code || '/';\n                  ELSE\n                    SELECT path, level INTO parent_path, parent_level FROM casualties_region WHERE id = NEW.parent_id;\n                    IF NEW.level <> parent_level + 1 THEN\n                      RAISE EXCEPTION 'region % has level % but its parent is at level %',\n                        NEW.code, NEW.level, parent_level USING ERRCODE = 'check_violation';\n                    END IF;\n                    NEW.path := parent_path || NEW.code || '/';\n                  END IF;\n                  NEW.search_names := casualties_search_text(concat_ws(' ', NEW.code, NULLIF(NEW.iso_code, ''),\n                                                     NEW.name, NULLIF(NEW.name_local, ''),\n                                                     NULLIF(array_to_string(NEW.alternate_names, ' '), '')));\n                  RETURN NEW;\n                END;\n                ", hash='c93e83ad2081b364f0a5dee007bcc0487417586f', operation='INSERT OR UPDATE', pgid='pgtrigger_region_path_00dee', table='casualties_region', when='BEFORE')),
        ),
        # Regions stored before: the trigger folds their names again as each row is rewritten.
        migrations.RunSQL("UPDATE casualties_region SET search_names = ''", reverse_sql=migrations.RunSQL.noop),
    ]
