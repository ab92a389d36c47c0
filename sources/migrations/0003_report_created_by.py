"""Who entered each report: while no figure cites a report, only they (or a reviewer) may change it."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sources', '0002_touch_updated_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='report',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='report',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='report',
            name='delete_delete',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='report',
            name='touch_updated_at',
        ),
        migrations.AddField(
            model_name='report',
            name='created_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='reportevent',
            name='created_by',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='report',
            trigger=pgtrigger.compiler.Trigger(name='touch_updated_at', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."archive_url" IS DISTINCT FROM (NEW."archive_url") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."created_by_id" IS DISTINCT FROM (NEW."created_by_id") OR OLD."credibility" IS DISTINCT FROM (NEW."credibility") OR OLD."external_id" IS DISTINCT FROM (NEW."external_id") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."language" IS DISTINCT FROM (NEW."language") OR OLD."published_on" IS DISTINCT FROM (NEW."published_on") OR OLD."source_id" IS DISTINCT FROM (NEW."source_id") OR OLD."summary" IS DISTINCT FROM (NEW."summary") OR OLD."title" IS DISTINCT FROM (NEW."title") OR OLD."url" IS DISTINCT FROM (NEW."url"))', func='NEW.updated_at := now(); RETURN NEW;', hash='b88522d76c9a90e635f5577242321d70873ec9b7', operation='UPDATE', pgid='pgtrigger_touch_updated_at_28fae', table='sources_report', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='report',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "sources_reportevent" ("archive_url", "created_at", "created_by_id", "credibility", "external_id", "id", "language", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "published_on", "source_id", "summary", "title", "updated_at", "url") VALUES (NEW."archive_url", NEW."created_at", NEW."created_by_id", NEW."credibility", NEW."external_id", NEW."id", NEW."language", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."published_on", NEW."source_id", NEW."summary", NEW."title", NEW."updated_at", NEW."url"); RETURN NULL;', hash='5ab5f01cbbaf31277c9b9e5d61c3d7e5cb38890d', operation='INSERT', pgid='pgtrigger_insert_insert_7cb70', table='sources_report', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='report',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "sources_reportevent" ("archive_url", "created_at", "created_by_id", "credibility", "external_id", "id", "language", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "published_on", "source_id", "summary", "title", "updated_at", "url") VALUES (NEW."archive_url", NEW."created_at", NEW."created_by_id", NEW."credibility", NEW."external_id", NEW."id", NEW."language", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."published_on", NEW."source_id", NEW."summary", NEW."title", NEW."updated_at", NEW."url"); RETURN NULL;', hash='a60febe4b9908664260f7f40d0e14f2790c8d589', operation='UPDATE', pgid='pgtrigger_update_update_bece6', table='sources_report', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='report',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "sources_reportevent" ("archive_url", "created_at", "created_by_id", "credibility", "external_id", "id", "language", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "published_on", "source_id", "summary", "title", "updated_at", "url") VALUES (OLD."archive_url", OLD."created_at", OLD."created_by_id", OLD."credibility", OLD."external_id", OLD."id", OLD."language", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."published_on", OLD."source_id", OLD."summary", OLD."title", OLD."updated_at", OLD."url"); RETURN NULL;', hash='1022f552fc890547d27ba6661ed3d713b9ab5996', operation='DELETE', pgid='pgtrigger_delete_delete_c1421', table='sources_report', when='AFTER')),
        ),
    ]
