"""Read side of alert ingestion: key lookup, lists for pages and the API, the timeline source."""

import hmac

from django.db import connection
from django.db.models import Count, QuerySet

from .models import Alert, Incident, Integration, MaintenanceWindow, Service
from .models.alert import KEY_PREFIX_LENGTH, hash_key
from .queries import TimelineEvent, register_timeline_source


def find_integration(key: str) -> Integration | None:
    """The integration whose secret key is ``key``, or None.

    The index lookup uses only the key's first characters; the rest is
    checked by comparing hashes with hmac.compare_digest, so response time
    does not tell an attacker how much of a guessed key was right.

    Raw SQL because this runs on every ingested event and, on a small
    machine, building the ORM query costs more than running it (see
    docs/benchmarks.md).
    """
    if not isinstance(key, str) or len(key) < KEY_PREFIX_LENGTH or len(key) > 128:
        return None
    digest = hash_key(key)
    found = None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_FIND_COLUMNS)} FROM {Integration._meta.db_table} "  # noqa: S608 - our names
            "WHERE key_prefix = %s",
            [key[:KEY_PREFIX_LENGTH]],
        )
        rows = cursor.fetchall()
    for row in rows:
        if hmac.compare_digest(row[_FIND_COLUMNS.index("key_hash")], digest):
            # Columns an event needs; the rest (severity_map, service…) load on first access.
            found = Integration.from_db(connection.alias, _FIND_COLUMNS, row)
    return found


_FIND_COLUMNS = ["id", "service_id", "kind", "name", "key_hash", "enabled", "auto_resolve", "rate_per_second",
                 "burst", "interval_seconds", "grace_seconds"]


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


def maintenance_windows_for(service: Service) -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.filter(service=service).select_related("created_by")


def open_incidents_by_severity_and_team() -> list[dict]:
    return list(
        Incident.objects.open()
        .values("severity__name", "team__slug")
        .annotate(n=Count("id"))
        .order_by("severity__name", "team__slug")
    )


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
