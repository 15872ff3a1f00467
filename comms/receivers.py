"""comms listens to incidents: every stakeholder update leaves for its readers (``comms.updates``)."""

from django.dispatch import receiver

from incidents.models import Incident
from incidents.signals import status_update_posted

from .subscribers import tell_status_subscribers
from .updates import tell_team


@receiver(status_update_posted, sender=Incident, dispatch_uid="comms.tell_team")
def update_to_team(sender, *, update, now, **kwargs):
    tell_team(update=update, now=now)


@receiver(status_update_posted, sender=Incident, dispatch_uid="comms.tell_status_subscribers")
def update_to_status_subscribers(sender, *, update, now, **kwargs):
    # Public updates only (the service checks again); the mails are rows in this transaction, sent on commit.
    if update.public:
        tell_status_subscribers(update=update, now=now)
