"""The export log learns the sha256 and size of each complete body, and the database session of each export, so that
an export whose worker was killed reads as failed."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casualties', '0019_report_change_raises_incident_versions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='exportlog',
            name='backend_pid',
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='exportlog',
            name='backend_started_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='exportlog',
            name='bytes_sent',
            field=models.PositiveBigIntegerField(default=0, help_text='Bytes of the body sent, header included.'),
        ),
        migrations.AddField(
            model_name='exportlog',
            name='sha256',
            field=models.CharField(blank=True, help_text='Hex sha256 of the whole body, once completed; empty before.', max_length=64),
        ),
        migrations.AddIndex(
            model_name='exportlog',
            index=models.Index(condition=models.Q(('status', 'started')), fields=['id'], name='casualties_exportlog_started'),
        ),
    ]
