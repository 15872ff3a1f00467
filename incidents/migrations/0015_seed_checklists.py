from django.db import migrations

DURING = [
    ("Severity assigned", "severity"),
    ("Commander identified", "commander"),
    ("War room open", ""),
    ("Status page updated", "status_page"),
    ("Timeline kept", ""),
    ("Stakeholders notified", ""),
]
AFTER = [
    ("Resolution confirmed", "resolution"),
    ("Status page updated", "status_page"),
    ("Customer communication sent", ""),
    ("Postmortem scheduled", ""),
    ("Action items created", ""),
    ("Runbook updated", ""),
]
# SEV3 and SEV4 are smaller: no war room, no customer letter, no postmortem.
SHORT_DURING = [item for item in DURING if item[0] not in {"War room open", "Stakeholders notified"}]
SHORT_AFTER = [item for item in AFTER if item[0] in {"Resolution confirmed", "Status page updated",
                                                     "Action items created"}]
CHECKLISTS = {
    "SEV1": (DURING, AFTER), "SEV2": (DURING, AFTER),
    "SEV3": (SHORT_DURING, SHORT_AFTER), "SEV4": (SHORT_DURING, SHORT_AFTER),
}


def seed(apps, schema_editor):
    Severity = apps.get_model("incidents", "Severity")
    Template = apps.get_model("incidents", "ChecklistTemplate")
    Item = apps.get_model("incidents", "ChecklistTemplateItem")
    for severity in Severity.objects.filter(name__in=CHECKLISTS):
        for phase, items in zip(("during", "after"), CHECKLISTS[severity.name], strict=True):
            template, created = Template.objects.get_or_create(severity=severity, phase=phase)
            if created:
                Item.objects.bulk_create(Item(template=template, position=n, text=text, auto=auto)
                                         for n, (text, auto) in enumerate(items, start=1))


def unseed(apps, schema_editor):
    apps.get_model("incidents", "ChecklistTemplate").objects.filter(severity__name__in=CHECKLISTS).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0014_checklists")]
    operations = [migrations.RunPython(seed, unseed)]
