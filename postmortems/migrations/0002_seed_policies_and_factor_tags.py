"""The postmortem policy of each seeded severity, and the contributing-factor tags every team shares."""

from django.db import migrations

# severity: (required, hours after resolution it is due)
POLICIES = {"SEV1": (True, 48), "SEV2": (True, 7 * 24), "SEV3": (False, None), "SEV4": (False, None)}
TAGS = [
    ("Change", "A deploy, migration or configuration change set it off."),
    ("Capacity", "Load, limits or resources ran out."),
    ("Dependency", "A service or vendor we rely on failed."),
    ("Detection gap", "Monitoring or alerting missed it or was late."),
    ("Runbook gap", "The runbook was missing, wrong or hard to follow."),
    ("Testing gap", "Tests or staging did not catch it."),
    ("Communication", "Hand-offs, paging or updates slowed the response."),
    ("Automation", "A job, script or tool acted in a way nobody expected."),
    ("Design", "The architecture made the failure possible or larger."),
]


def seed(apps, schema_editor):
    Severity = apps.get_model("incidents", "Severity")
    Policy = apps.get_model("postmortems", "PostmortemPolicy")
    Tag = apps.get_model("postmortems", "FactorTag")
    for severity in Severity.objects.filter(name__in=POLICIES):
        required, hours = POLICIES[severity.name]
        Policy.objects.get_or_create(severity=severity, defaults={"required": required, "due_hours": hours})
    for name, description in TAGS:
        Tag.objects.get_or_create(team=None, name=name, defaults={"description": description})


def unseed(apps, schema_editor):
    apps.get_model("postmortems", "PostmortemPolicy").objects.filter(severity__name__in=POLICIES).delete()
    apps.get_model("postmortems", "FactorTag").objects.filter(team=None, name__in=[n for n, _ in TAGS],
                                                               factors__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0001_initial"), ("incidents", "0003_seed_severities")]
    operations = [migrations.RunPython(seed, unseed)]
