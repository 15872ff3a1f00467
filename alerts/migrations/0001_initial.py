
import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

MOVED = ["integration", "historicalintegration", "alertgroup", "alert"]


def _relabel(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor):
    _relabel(apps, "incidents", "alerts")


def move_content_types_back(apps, schema_editor):
    _relabel(apps, "alerts", "incidents")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('incidents', '0010_move_alerts_to_alerts_app'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    # The tables exist already: incidents' migrations 0004–0009 created them, and
    # on a new database they still do. This takes them over in Django's state
    # only, and moves their content types so permissions and admin log entries
    # follow them.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalIntegration',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('events_v2', 'PagerDuty Events API v2'), ('alertmanager', 'Prometheus Alertmanager'), ('webhook', 'Generic JSON webhook'), ('heartbeat', 'Heartbeat')], max_length=16)),
                        ('name', models.CharField(max_length=120)),
                        ('key_prefix', models.CharField(db_index=True, editable=False, help_text='First characters of the key, to recognise it; the key itself is shown once.', max_length=8)),
                        ('key_hash', models.CharField(db_index=True, editable=False, max_length=64)),
                        ('key_rotated_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('severity_map', models.JSONField(blank=True, default=dict, help_text='Payload severity → incident severity, e.g. {"critical": "SEV1"}. Missing entries use critical→SEV1, error→SEV2, warning→SEV3, info→SEV4.')),
                        ('enabled', models.BooleanField(default=True, help_text='A disabled integration refuses events.')),
                        ('auto_resolve', models.BooleanField(default=True, help_text='Alertmanager and Grafana: resolve the incident when every one of its alerts has resolved. Off: the alerts resolve and the incident waits for a person. An explicit resolve (Events v2, webhook status resolved) always resolves.')),
                        ('rate_per_second', models.PositiveIntegerField(default=60, help_text='Sustained events per second.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('burst', models.PositiveIntegerField(default=200, help_text='Events accepted at once above the rate.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('interval_seconds', models.PositiveIntegerField(blank=True, help_text='Heartbeat: a ping is expected this often.', null=True)),
                        ('grace_seconds', models.PositiveIntegerField(blank=True, help_text='Heartbeat: extra time allowed before an incident opens.', null=True)),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('created_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('service', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='incidents.service')),
                    ],
                    options={
                        'verbose_name': 'historical integration',
                        'verbose_name_plural': 'historical integrations',
                        'db_table': 'incidents_historicalintegration',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='Integration',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('events_v2', 'PagerDuty Events API v2'), ('alertmanager', 'Prometheus Alertmanager'), ('webhook', 'Generic JSON webhook'), ('heartbeat', 'Heartbeat')], max_length=16)),
                        ('name', models.CharField(max_length=120)),
                        ('key_prefix', models.CharField(db_index=True, editable=False, help_text='First characters of the key, to recognise it; the key itself is shown once.', max_length=8)),
                        ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('key_rotated_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('severity_map', models.JSONField(blank=True, default=dict, help_text='Payload severity → incident severity, e.g. {"critical": "SEV1"}. Missing entries use critical→SEV1, error→SEV2, warning→SEV3, info→SEV4.')),
                        ('enabled', models.BooleanField(default=True, help_text='A disabled integration refuses events.')),
                        ('auto_resolve', models.BooleanField(default=True, help_text='Alertmanager and Grafana: resolve the incident when every one of its alerts has resolved. Off: the alerts resolve and the incident waits for a person. An explicit resolve (Events v2, webhook status resolved) always resolves.')),
                        ('rate_per_second', models.PositiveIntegerField(default=60, help_text='Sustained events per second.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('burst', models.PositiveIntegerField(default=200, help_text='Events accepted at once above the rate.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('bucket_tokens', models.FloatField(blank=True, editable=False, null=True)),
                        ('bucket_at', models.FloatField(blank=True, editable=False, null=True)),
                        ('bucket_lease', models.PositiveIntegerField(blank=True, editable=False, null=True)),
                        ('interval_seconds', models.PositiveIntegerField(blank=True, help_text='Heartbeat: a ping is expected this often.', null=True)),
                        ('grace_seconds', models.PositiveIntegerField(blank=True, help_text='Heartbeat: extra time allowed before an incident opens.', null=True)),
                        ('heartbeat_state', models.CharField(choices=[('new', 'Waiting for the first ping'), ('up', 'Up'), ('down', 'Down (missed)')], default='new', editable=False, max_length=8)),
                        ('last_ping_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('due_at', models.DateTimeField(blank=True, db_index=True, editable=False, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='integrations', to='incidents.service')),
                    ],
                    options={
                        'db_table': 'incidents_integration',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='AlertGroup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('dedup_key', models.CharField(max_length=255)),
                        ('created_at', models.DateTimeField()),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('incident', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_groups', to='incidents.incident')),
                        ('integration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='groups', to='alerts.integration')),
                    ],
                    options={
                        'db_table': 'incidents_alertgroup',
                    },
                ),
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('dedup_key', models.CharField(help_text='Events v2 dedup_key or Alertmanager fingerprint.', max_length=255)),
                        ('status', models.CharField(choices=[('firing', 'Firing'), ('resolved', 'Resolved')], default='firing', max_length=8)),
                        ('summary', models.CharField(max_length=1024)),
                        ('source', models.CharField(blank=True, max_length=255)),
                        ('severity', models.CharField(help_text='Severity as sent: critical, error, warning or info.', max_length=16)),
                        ('component', models.CharField(blank=True, max_length=255)),
                        ('group', models.CharField(blank=True, max_length=255)),
                        ('alert_class', models.CharField(blank=True, max_length=255)),
                        ('details', models.JSONField(blank=True, default=dict, help_text='custom_details or webhook details.')),
                        ('labels', models.JSONField(blank=True, default=dict)),
                        ('annotations', models.JSONField(blank=True, default=dict)),
                        ('links', models.JSONField(blank=True, default=list)),
                        ('images', models.JSONField(blank=True, default=list)),
                        ('runbook_url', models.URLField(blank=True, max_length=2000)),
                        ('generator_url', models.URLField(blank=True, max_length=2000)),
                        ('started_at', models.DateTimeField(blank=True, help_text='When the source says it began.', null=True)),
                        ('received_at', models.DateTimeField()),
                        ('last_seen_at', models.DateTimeField()),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('incident', models.ForeignKey(blank=True, db_index=False, help_text='Empty when the alert arrived during a maintenance window.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='incidents.incident')),
                        ('suppressed_by', models.ForeignKey(blank=True, db_index=False, help_text='The maintenance window that kept this alert from opening an incident.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='incidents.maintenancewindow')),
                        ('integration', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='alerts.integration')),
                    ],
                    options={
                        'db_table': 'incidents_alert',
                        'ordering': ['-received_at', '-id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='integration',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'heartbeat'), _negated=True), models.Q(('interval_seconds__gt', 0), ('interval_seconds__isnull', False)), _connector='OR'), name='integration_heartbeat_has_interval'),
                ),
                migrations.AddConstraint(
                    model_name='alertgroup',
                    constraint=models.UniqueConstraint(condition=models.Q(('closed_at__isnull', True)), fields=('integration', 'dedup_key'), name='alertgroup_one_open_per_key'),
                ),
                migrations.AddIndex(
                    model_name='alert',
                    index=models.Index(fields=['integration', 'dedup_key', 'status'], name='alert_integration_key'),
                ),
                migrations.AddIndex(
                    model_name='alert',
                    index=models.Index(fields=['incident', 'received_at'], name='alert_incident_received'),
                ),
                migrations.AddIndex(
                    model_name='alert',
                    index=models.Index(fields=['integration', 'received_at'], name='alert_integration_received'),
                ),
                migrations.AddIndex(
                    model_name='alert',
                    index=models.Index(condition=models.Q(('suppressed_by__isnull', False)), fields=['suppressed_by'], name='alert_suppressed_by'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
