"""Everyone who existed before paging gets their account e-mail as a contact method, used at once."""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    User = apps.get_model("oncall", "User")
    ContactMethod = apps.get_model("paging", "ContactMethod")
    NotificationRule = apps.get_model("paging", "NotificationRule")
    now = timezone.now()
    for user in User.objects.exclude(email="").iterator():
        method, _ = ContactMethod.objects.get_or_create(
            user=user, kind="email", address=user.email, defaults={"label": "Account e-mail", "verified_at": now})
        for urgency in ("high", "low"):
            NotificationRule.objects.get_or_create(user=user, urgency=urgency, contact_method=method, delay_minutes=0)


class Migration(migrations.Migration):
    dependencies = [("paging", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
