"""The organisation's communication templates, one per kind, from the default texts of the time.

The texts are copied here (not imported from ``comms.templating``): a migration must keep doing what it
did when it was written. A kind that already has an organisation template keeps it.
"""

from django.db import migrations
from django.utils import timezone

# (kind, subject, body)
SEEDS = [
    ('initial', '[{{ severity }}] {{ number }}: {{ title }}',
     'We are responding to an incident.\n\n{{ number }} · {{ severity }} · {{ status }}\n{{ title }}\n\nTeam: {{ team }}\nServices: {{ services|default:"not yet known" }}\nStarted: {{ start }}\nIncident commander: {{ commander|default:"not yet assigned" }}\n{% if impact %}Impact: {{ impact }}\n{% endif %}\n{% if next_update %}Next update by {{ next_update }}.{% else %}We will send an update as soon as we know more.{% endif %}'),
    ('update', '[{{ severity }}] {{ number }} {{ status|lower }}: {{ title }}',
     'Update on {{ number }}: {{ title }}\n\nStatus: {{ status }} ({{ severity }}), {{ duration }} since it started at {{ start }}.\nServices: {{ services|default:"not yet known" }}\nIncident commander: {{ commander|default:"not yet assigned" }}\n{% if impact %}Impact: {{ impact }}\n{% endif %}{% if root_cause %}Cause: {{ root_cause }}\n{% endif %}\n{% if next_update %}Next update by {{ next_update }}.{% else %}We will send another update when there is news.{% endif %}'),
    ('resolution', '[Resolved] {{ number }}: {{ title }}',
     '{{ number }} is resolved: {{ title }}\n\nSeverity: {{ severity }}\nStarted: {{ start }}\nDuration: {{ duration }}\nServices: {{ services|default:"none recorded" }}\n{% if impact %}Impact: {{ impact }}\n{% endif %}{% if root_cause %}Root cause: {{ root_cause }}\n{% endif %}\nFollow-up work will be tracked in the postmortem. Thank you to everyone who helped{% if commander %}, and to {{ commander }} for leading the response{% endif %}.'),
    ('status_investigating', 'Investigating: {{ title }}',
     'We are investigating an issue{% if impact %}: {{ impact }}{% else %} that may affect our service.{% endif %}\n\n{% if next_update %}We will post an update by {{ next_update }}.{% else %}We will post an update as soon as we know more.{% endif %}'),
    ('status_identified', 'Identified: {{ title }}',
     'The issue has been identified and a fix is being implemented.\n\n{% if next_update %}We will post an update by {{ next_update }}.{% else %}We will post an update as soon as we know more.{% endif %}'),
    ('status_monitoring', 'Monitoring: {{ title }}',
     'A fix has been implemented and we are monitoring the results.\n\n{% if next_update %}We will post an update by {{ next_update }}.{% else %}We will post an update once we are confident the issue is resolved.{% endif %}'),
    ('status_resolved', 'Resolved: {{ title }}',
     'This incident has been resolved. It began {{ start }} and lasted {{ duration }}.\n\nWe apologise for the inconvenience and thank you for your patience.'),
    ('customer_email', '{{ title }}: {{ status|lower }}',
     'Hello,\n\nWe are writing to let you know about an issue with our service that began {{ start }}.\n{% if impact %}\nWhat you may notice: {{ impact }}\n{% endif %}\nCurrent status: {{ status }}\n{% if next_update %}We will write again by {{ next_update }}.{% else %}We will write again when there is news.{% endif %}\n\nWe are sorry for the disruption and thank you for your patience.'),
]


def seed(apps, schema_editor):
    CommTemplate = apps.get_model("comms", "CommTemplate")
    HistoricalCommTemplate = apps.get_model("comms", "HistoricalCommTemplate")
    now = timezone.now()
    for kind, subject, body in SEEDS:
        if CommTemplate.objects.filter(kind=kind, team__isnull=True).exists():
            continue
        template = CommTemplate.objects.create(kind=kind, subject=subject, body=body)
        # The history page starts with this version (a migration's models record no history themselves).
        HistoricalCommTemplate.objects.create(
            id=template.pk, kind=kind, subject=subject, body=body, team=None, updated_by=None,
            history_date=now, history_type="+", history_change_reason="default text seeded",
        )


class Migration(migrations.Migration):

    dependencies = [
        ("comms", "0002_templates_and_subscribers"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
