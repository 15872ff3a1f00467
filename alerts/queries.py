"""Read side of alert ingestion: key lookup, lists for pages and the API, the timeline source."""

import hmac

from django.db.models import Count, QuerySet

from incidents.models import Incident, Service
from incidents.queries import TimelineEvent, register_timeline_source

from .models import KEY_PREFIX_LENGTH, Alert, Integration, hash_key


def integration_for_key(key) -> Integration | None:
    """The integration whose secret key is ``key``, or None.

    Looked up by the key's SHA-256 hash (a unique index). Timing can at most
    tell an attacker how much of the hash of a guess matched, which says
    nothing about the key; the hash is still compared with
    ``hmac.compare_digest``.
    """
    digest = key_digest(key)
    if digest is None:
        return None
    integration = Integration.objects.filter(key_hash=digest).first()
    if integration is None or not hmac.compare_digest(integration.key_hash, digest):
        return None
    return integration


def key_digest(key) -> str | None:
    """The SHA-256 hex digest the key is stored under, or None if it cannot be a key."""
    if not isinstance(key, str) or len(key) < KEY_PREFIX_LENGTH or len(key) > 128:
        return None
    return hash_key(key)


def integrations_for(user) -> QuerySet[Integration]:
    return (
        Integration.objects.visible_to(user)
        .select_related("service__team", "created_by")
        .annotate(alerts_total=Count("alerts"))
        .order_by("service__name", "name", "id")
    )


def alerts_for_service(service: Service) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(integration__service=service)
        .select_related("integration", "incident", "suppressed_by")
        .order_by("-received_at", "-id")
    )


def alerts_for_user(user) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(integration__service__in=Service.objects.visible_to(user))
        .select_related("integration__service", "incident", "suppressed_by")
        .order_by("-received_at", "-id")
    )


def alerts_of(incident: Incident) -> QuerySet[Alert]:
    return Alert.objects.filter(incident=incident).select_related("integration").order_by("received_at", "id")


def _alert_events(incident: Incident) -> list[TimelineEvent]:
    events = []
    for alert in alerts_of(incident):
        data = {
            "id": alert.pk, "integration": alert.integration.name, "kind": alert.integration.kind,
            "dedup_key": alert.dedup_key, "severity": alert.severity, "status": "firing",
        }
        if alert.runbook_url:
            data["runbook_url"] = alert.runbook_url
        events.append(TimelineEvent(alert.received_at, "alert", None, f"Alert: {alert.summary}", data))
        if alert.resolved_at:
            events.append(TimelineEvent(
                alert.resolved_at, "alert", None, f"Alert resolved: {alert.summary}", {**data, "status": "resolved"}
            ))
    return events


register_timeline_source(_alert_events)
