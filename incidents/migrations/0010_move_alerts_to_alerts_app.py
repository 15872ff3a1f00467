
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0009_heartbeat_interval_not_null'),
    ]

    # Integrations, alert groups and alerts now belong to the alerts app. Their
    # tables keep their names (alerts' models set db_table), so this is a move
    # of Django's bookkeeping only: no row is touched.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='alertgroup',
                    name='incident',
                ),
                migrations.RemoveField(
                    model_name='alertgroup',
                    name='integration',
                ),
                migrations.RemoveField(
                    model_name='historicalintegration',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='historicalintegration',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalintegration',
                    name='service',
                ),
                migrations.RemoveField(
                    model_name='integration',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='integration',
                    name='service',
                ),
                migrations.DeleteModel(
                    name='Alert',
                ),
                migrations.DeleteModel(
                    name='AlertGroup',
                ),
                migrations.DeleteModel(
                    name='HistoricalIntegration',
                ),
                migrations.DeleteModel(
                    name='Integration',
                ),
            ],
            database_operations=[],
        ),
    ]
