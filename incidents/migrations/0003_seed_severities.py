from datetime import timedelta

from django.db import migrations

SEVERITIES = [
    ("SEV1", 1, timedelta(minutes=5), timedelta(hours=1),
     "Critical: a core service is down or data is at risk for many customers. Page everyone needed, now."),
    ("SEV2", 2, timedelta(minutes=15), timedelta(hours=4),
     "Major: a key feature is broken or badly degraded for many customers."),
    ("SEV3", 3, timedelta(hours=1), timedelta(hours=24),
     "Minor: limited impact, a workaround exists, or few customers are affected."),
    ("SEV4", 4, timedelta(hours=4), timedelta(hours=72),
     "Low: cosmetic or internal issue with no customer impact."),
]


def seed(apps, schema_editor):
    Severity = apps.get_model("incidents", "Severity")
    for name, rank, ack, resolve, description in SEVERITIES:
        Severity.objects.update_or_create(
            name=name,
            defaults={"rank": rank, "acknowledge_target": ack, "resolve_target": resolve, "description": description},
        )


def unseed(apps, schema_editor):
    apps.get_model("incidents", "Severity").objects.filter(name__in=[s[0] for s in SEVERITIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_initial")]
    operations = [migrations.RunPython(seed, unseed)]
