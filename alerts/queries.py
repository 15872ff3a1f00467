"""Read side of alert ingestion: key lookup, lists for pages and the API, the timeline source."""

import hmac
from datetime import datetime

from django.db import connection
from django.db.models import Count, QuerySet

from incidents.models import Incident, MaintenanceWindow, Service
from incidents.queries import TimelineEvent, register_timeline_source

from .models import KEY_PREFIX_LENGTH, Alert, Integration, hash_key


def lookup_integration(key: str, *, window_at: datetime | None = None) -> tuple[Integration | None, int | None]:
    """The integration whose secret key is ``key`` (or None), and its service's maintenance window active at
    ``window_at`` (None if there is none or ``window_at`` is None), in one statement.

    The key is looked up by its SHA-256 hash (a unique index). Timing can at
    most tell an attacker how much of the hash of a guess matched, which says
    nothing about the key; the hash is still compared with
    hmac.compare_digest. On PostgreSQL the ingest endpoints use
    ``ratelimit.admit`` instead, which also takes the rate-limit token in the
    same statement.

    Raw SQL because this runs on every ingested event and, on a small
    machine, building the ORM query costs more than running it (see
    docs/benchmarks.md).
    """
    digest = key_digest(key)
    if digest is None:
        return None, None
    at = connection.ops.adapt_datetimefield_value(window_at) if window_at is not None else None
    table = Integration._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(FIND_COLUMNS)}, ({active_window_sql(f'{table}.service_id')}) "  # noqa: S608
            f"FROM {table} WHERE key_hash = %s",
            [at, at, digest],
        )
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[FIND_COLUMNS.index("key_hash")], digest):
        return None, None
    return integration_from_row(row), row[len(FIND_COLUMNS)]


def key_digest(key) -> str | None:
    """The SHA-256 hex digest the key is stored under, or None if it cannot be a key."""
    if not isinstance(key, str) or len(key) < KEY_PREFIX_LENGTH or len(key) > 128:
        return None
    return hash_key(key)


def integration_from_row(row) -> Integration:
    # Columns an event needs; the rest (severity_map, service…) load on first access (deferred).
    return Integration.from_db(connection.alias, FIND_COLUMNS, row[:len(FIND_COLUMNS)])


FIND_COLUMNS = ["id", "service_id", "kind", "name", "key_hash", "enabled", "auto_resolve", "rate_per_second",
                "burst", "interval_seconds", "grace_seconds"]


def active_window_sql(service_column: str) -> str:
    """A scalar subquery: the id of the maintenance window of the service in ``service_column`` active at a
    time (two parameters, both that time; a NULL time finds none). Index maint_service_ends serves it."""
    return (
        f"SELECT w.id FROM {MaintenanceWindow._meta.db_table} w "  # noqa: S608 - our names
        f"WHERE w.service_id = {service_column} AND w.starts_at <= %s AND w.ends_at > %s "
        "ORDER BY w.starts_at DESC LIMIT 1"
    )


def prepared_cursor():
    """A Django cursor (query log, execute wrappers, error translation) binding parameters on the server
    (PostgreSQL only).

    psycopg prepares a statement once it has run ``prepare_threshold`` times on
    a connection (set in settings; Django's default is never), and the
    connection plans prepared statements generically, so the hot-path
    statements (``ratelimit.admit``, the join of ``services.alerts``) are
    parsed and planned once per connection instead of once per event.
    Django's default client-side binding cursor cannot prepare. Give
    parameters in a select list an explicit cast.
    """
    # Imported here: the module needs psycopg, which a SQLite-only install may lack.
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = ServerBindingCursor(connection.connection)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


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
