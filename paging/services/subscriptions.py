"""Stakeholder subscriptions: told (by e-mail, never paged) of a team's or a service's incidents."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, Service, Severity
from oncall.models import Team, User
from oncall.permissions import can_view_team

from ..models import ContactMethod, Notification, Subscription
from . import messages
from .notify import ensure_default_contact, message


def tell_subscribers(*, incident: Incident, what: str, now: datetime | None = None,
                     body: str | None = None) -> list[Notification]:
    """E-mail everyone subscribed to the incident's team or services at its severity or worse
    (``body``: the text, when it is more than the notice of ``what`` happened, such as an update's)."""
    now = now or timezone.now()
    rank = incident.severity.rank
    subs = (Subscription.objects.filter(Q(team_id=incident.team_id) | Q(service__in=incident.services.all()),
                                        min_severity__rank__gte=rank, user__is_active=True)
            .select_related("user"))
    users = {s.user.pk: s.user for s in subs}
    if not users:
        return []
    methods = {m.user_id: m for m in ContactMethod.objects.filter(
        user__in=list(users), kind=ContactMethod.Kind.EMAIL, verified_at__isnull=False).order_by("-id")}
    sent = []
    for user in users.values():
        method = methods.get(user.pk) or ensure_default_contact(user)
        if method is None or not method.verified:
            continue
        sent.append(message(user=user, method=method, kind=Notification.Kind.STAKEHOLDER, incident=incident,
                            subject=f"{what}: {messages.page_subject(incident)}",
                            body=body if body is not None else messages.notice_body(incident, what), now=now))
    return sent


@transaction.atomic
def subscribe(*, user: User, min_severity: Severity, team: Team | None = None, service: Service | None = None,
              by: User | None = None) -> Subscription:
    """Subscribe ``user`` to a team's or a service's incidents (one or the other); again updates the severity."""
    if (team is None) == (service is None):
        raise ValidationError("Subscribe to a team or to a service, not both or neither.")
    if by is not None and by != user and not by.is_staff:
        raise PermissionDenied("You may only change your own subscriptions.")
    if not can_view_team(user, team or service.team):
        raise PermissionDenied("You can subscribe only to teams and services you can see.")
    sub, _ = Subscription.objects.update_or_create(user=user, team=team, service=service,
                                                   defaults={"min_severity": min_severity})
    return sub


@transaction.atomic
def unsubscribe(*, subscription: Subscription, by: User) -> None:
    if by != subscription.user and not by.is_staff:
        raise PermissionDenied("You may only change your own subscriptions.")
    subscription.delete()
