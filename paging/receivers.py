"""How paging hears of incidents and people (it leans on them; they never import paging).

Connected in ``PagingConfig.ready``. Every incident signal is sent inside the
transaction that made the change, so a run started here commits, or rolls
back, with the incident.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from incidents import signals

from .models import EscalationRun
from .services.escalation import start_escalation, stop_escalation
from .services.subscriptions import tell_subscribers


@receiver(signals.incident_created, dispatch_uid="paging.start_on_create")
def _start_on_create(sender, incident, by, now=None, **kwargs):
    if incident.status == "triggered":
        start_escalation(incident=incident, now=now)
    tell_subscribers(incident=incident, what="Declared", now=now)


@receiver(signals.incident_reopened, dispatch_uid="paging.start_on_reopen")
def _start_on_reopen(sender, incident, by, now=None, **kwargs):
    start_escalation(incident=incident, now=now)
    tell_subscribers(incident=incident, what="Reopened", now=now)


@receiver(signals.incident_transitioned, dispatch_uid="paging.stop_on_ack")
def _stop_on_transition(sender, incident, by, transition, now=None, **kwargs):
    if transition == "acknowledge":
        stop_escalation(incident=incident, state=EscalationRun.State.ACKNOWLEDGED, by=by, now=now)
    elif transition == "resolve":
        stop_escalation(incident=incident, state=EscalationRun.State.RESOLVED, by=by, now=now)
        tell_subscribers(incident=incident, what="Resolved", now=now)


@receiver(signals.incident_updated, dispatch_uid="paging.severity_changed")
def _severity_changed(sender, incident, by, changed, now=None, **kwargs):
    if "severity" in changed:
        tell_subscribers(incident=incident, what=f"Severity changed to {incident.severity.name}", now=now)


@receiver(post_save, sender=get_user_model(), dispatch_uid="paging.default_contact")
def _default_contact(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services.notify import ensure_default_contact
        ensure_default_contact(instance)
