"""How postmortems hear of incidents (they lean on incidents; incidents never import postmortems).

Connected in ``PostmortemsConfig.ready``. Every incident signal is sent inside the transaction that made
the change, so a postmortem made here commits, or rolls back, with the resolution.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from incidents import signals

from .library import SEARCHED_FIELDS, keep_search_document
from .models import Postmortem
from .services import ensure_postmortem, refresh_from_incident, sync_requirement
from .services.postmortem import PREFILLED

# Incident fields a draft nobody has edited yet follows (through the prefill).
_FOLLOWED = {*PREFILLED, "description", "title", "resolution_summary", "started_at"}


@receiver(signals.incident_resolved, dispatch_uid="postmortems.due_on_resolve")
def _due_on_resolve(sender, incident, by, now=None, **kwargs):
    ensure_postmortem(incident=incident, by=by, now=now)


@receiver(signals.incident_updated, dispatch_uid="postmortems.follow_incident")
def _follow_incident(sender, incident, by, changed, now=None, **kwargs):
    if "severity" in changed:
        sync_requirement(incident=incident, now=now)
    if _FOLLOWED & set(changed):
        untouched = Postmortem.objects.filter(incident=incident, edited_at__isnull=True).first()
        if untouched is not None:
            refresh_from_incident(postmortem=untouched, now=now)
    if "title" in changed:
        keep_search_document(Postmortem.objects.filter(incident=incident))


@receiver(post_save, sender=Postmortem, dispatch_uid="postmortems.search_document")
def _keep_search_document(sender, instance, created, update_fields=None, **kwargs):
    # Every writer saves through a service; a save of other fields (a transition, the version) keeps it.
    if created or update_fields is None or SEARCHED_FIELDS & set(update_fields):
        keep_search_document(Postmortem.objects.filter(pk=instance.pk))
