"""Every write of alert ingestion: events and heartbeats (integration setup is in ``integrations``).

An event is stored with its incident in one transaction. Incidents are opened
through ``create_incident`` and moved through ``transition_incident`` (by=None:
the system), so the history, the signals and escalation see alert incidents
exactly like declared ones.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from incidents.models import Incident, MaintenanceWindow, Service, Severity, Source
from incidents.services.incident import (
    _announce,
    _create_incident,
    acknowledge_incident,
    resolve_incident,
)
from oncall.models import Team

from ..models import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertGroup,
    AlertStatus,
    HeartbeatState,
    Integration,
    IntegrationKind,
)
from . import ingest_pg as alerts_pg

HEARTBEAT_DEDUP_KEY = "heartbeat"


# --- Events ------------------------------------------------------------------

@dataclass
class AlertEvent:
    """One normalised event, whatever endpoint it came from.

    ``dedup_key`` identifies the alert; ``group_key`` the incident it opens or
    joins (the same for Events v2 and webhooks, the groupKey for Alertmanager).
    ``upsert`` means one alert per dedup key (Alertmanager fingerprints): a
    repeated firing alert updates the alert instead of adding one.
    """

    action: str  # trigger | acknowledge | resolve
    dedup_key: str
    group_key: str = ""
    summary: str = ""
    source: str = ""
    severity: str = "critical"
    component: str = ""
    group: str = ""
    alert_class: str = ""
    details: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    images: list = field(default_factory=list)
    runbook_url: str = ""
    generator_url: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    upsert: bool = False

    def __post_init__(self):
        self.group_key = self.group_key or self.dedup_key


@dataclass
class Outcome:
    """What an event did: triggered, deduplicated, updated, suppressed, acknowledged, resolved or ignored."""

    result: str
    dedup_key: str
    incident: Incident | None = None


def new_dedup_key() -> str:
    return uuid.uuid4().hex


# ``window_id`` default: look the active maintenance window up here. The ingest
# endpoints pass the one they found with the key (ratelimit.admit), at the same ``now``.
LOOK_UP = object()


def ingest_event(
    *, integration: Integration, event: AlertEvent, now: datetime | None = None, window_id=LOOK_UP,
    try_join: bool = True,
) -> Outcome:
    """Apply one event. Same guarantees as ``ingest_events``.

    On PostgreSQL a trigger is one statement, atomic on its own, when it joins
    an open incident (most events) or opens one for a new key (``alerts_pg``);
    anything else (a maintenance window, an upsert, ack, resolve, a lost race)
    takes the full transaction of ``ingest_events``. ``try_join=False``: the
    caller just tried the join (``ingest_leased_trigger``) and found nothing.
    """
    now = now or timezone.now()
    if event.action == "trigger" and not event.upsert and connection.vendor == "postgresql":
        if window_id is LOOK_UP:
            window_id = _active_window_id(integration.service_id, now)
        if window_id is None:
            incident = alerts_pg.join_open_incident(integration, event, now) if try_join else None
            if incident is not None:
                return Outcome("deduplicated", event.dedup_key, incident)
            incident = alerts_pg.open_incident(integration, event, now)
            if incident is not None:
                return Outcome("triggered", event.dedup_key, incident)
    return ingest_events(integration=integration, events=[event], now=now, window_id=window_id)[0]


def ingest_leased_trigger(*, integration_id: int, key_digest: str, kind: str, event: AlertEvent,
                          now: datetime) -> Outcome | None:
    """A plain trigger admitted by a leased token (``ratelimit.spend_lease``): join the open incident of its key.

    One statement (PostgreSQL), which also checks what the endpoint's
    admission would have: the key is still the integration's, which is
    enabled and of ``kind``, and its service has no maintenance window now.
    None if anything is amiss or the key has no open incident: the caller
    then admits the event without taking another token and calls
    ``ingest_event(try_join=False)``.
    """
    if event.action != "trigger" or event.upsert or connection.vendor != "postgresql":
        return None
    incident = alerts_pg.join_admitted(integration_id, key_digest, kind, event, now)
    return Outcome("deduplicated", event.dedup_key, incident) if incident is not None else None


@transaction.atomic
def ingest_events(
    *, integration: Integration, events: list[AlertEvent], now: datetime | None = None, window_id=LOOK_UP
) -> list[Outcome]:
    """Apply events in one transaction: all are stored, or none.

    Triggers are applied before resolves, so a notification that resolves
    one alert of a group and starts another never auto-resolves the incident
    in between. Locks: the open AlertGroup row of each key and its incident's
    row, in that order, everywhere.
    """
    now = now or timezone.now()
    window = None if window_id is LOOK_UP else window_id
    if window_id is LOOK_UP and any(e.action == "trigger" for e in events):
        window = _active_window_id(integration.service_id, now)
    outcomes: list[Outcome | None] = [None] * len(events)
    order = sorted(range(len(events)), key=lambda i: events[i].action != "trigger")
    for i in order:
        event = events[i]
        if event.action == "trigger":
            outcomes[i] = _trigger(integration, event, window, now)
        elif event.action == "acknowledge":
            outcomes[i] = _acknowledge(integration, event, now)
        else:
            outcomes[i] = _resolve(integration, event, now)
    return outcomes  # type: ignore[return-value]


def _locked_open_group(integration: Integration, key: str) -> AlertGroup | None:
    """The open group of a key with its incident, both rows locked (FOR UPDATE OF both on PostgreSQL).

    Raw SQL: this runs for every event, and on a small machine compiling the
    ORM query (select_related + select_for_update(of=...)) costs several
    times what PostgreSQL needs to run it. See docs/benchmarks.md.
    """
    lock = " FOR UPDATE OF g, i" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.id, i.id, i.number, i.status, i.alert_count FROM {AlertGroup._meta.db_table} g "  # noqa: S608
            f"JOIN {Incident._meta.db_table} i ON i.id = g.incident_id "
            f"WHERE g.integration_id = %s AND g.dedup_key = %s AND g.closed_at IS NULL{lock}",
            [integration.pk, key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    # Only the fields ingestion reads; any other field loads on access (deferred).
    incident = Incident.from_db(connection.alias, ["id", "number", "status", "alert_count"], row[1:])
    return AlertGroup(pk=row[0], integration=integration, dedup_key=key, incident=incident)


def _active_window_id(service_id: int, now: datetime) -> int | None:
    """The maintenance window of the service active at ``now``, if any (raw SQL: hot path)."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {MaintenanceWindow._meta.db_table} "  # noqa: S608 - our table
            "WHERE service_id = %s AND starts_at <= %s AND ends_at > %s ORDER BY starts_at DESC LIMIT 1",
            [service_id, at, at],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _close(group: AlertGroup, now: datetime) -> None:
    group.closed_at = now
    group.save(update_fields=["closed_at"])


def _severity_for(integration: Integration, payload_severity: str) -> Severity | None:
    """The severity the integration maps ``payload_severity`` to; else the default map's; else the highest.

    One raw statement (alert ingestion opens incidents with it); the fields
    not read here load on first access.
    """
    wanted = integration.severity_name(payload_severity)
    fallback = DEFAULT_SEVERITY_MAP.get(payload_severity, "SEV1")
    with connection.cursor() as cursor:
        cursor.execute(alerts_pg.severity_choice_sql("id, name, rank", wanted="%s", fallback="%s"), [wanted, fallback])
        row = cursor.fetchone()
    return Severity.from_db(connection.alias, ["id", "name", "rank"], row) if row else None


def _service_and_map(integration: Integration) -> tuple[Service, dict]:
    """The integration's service with its team, and its severity map: one raw statement.

    The ingest endpoints load the integration without them; building this as
    an ORM ``select_related`` across three tables cost more than running it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.slug, s.name, s.team_id, t.slug, t.name, t.timezone, i.severity_map "  # noqa: S608
            f"FROM {Integration._meta.db_table} i JOIN {Service._meta.db_table} s ON s.id = i.service_id "
            f"JOIN {Team._meta.db_table} t ON t.id = s.team_id WHERE i.id = %s",
            [integration.pk],
        )
        row = cursor.fetchone()
    service = Service.from_db(connection.alias, ["id", "slug", "name", "team_id"], row[:4])
    service.team = Team.from_db(connection.alias, ["id", "slug", "name", "timezone"], (row[3], *row[4:7]))
    severity_map = row[7]
    return service, json.loads(severity_map) if isinstance(severity_map, str | bytes) else severity_map


def _claim(integration: Integration, key: str, now: datetime) -> int | None:
    """Insert the open group of ``key`` (no incident yet) and return its id; None if one is open already.

    ``ON CONFLICT DO NOTHING`` against the partial unique index: a second
    claimer waits until the first transaction ends, then inserts nothing (it
    committed) or its own row (it rolled back). No savepoint, no exception.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AlertGroup._meta.db_table} (integration_id, dedup_key, incident_id, created_at, "  # noqa: S608
            "closed_at) VALUES (%s, %s, NULL, %s, NULL) ON CONFLICT DO NOTHING RETURNING id",
            [integration.pk, key, connection.ops.adapt_datetimefield_value(now)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _open_or_join(integration: Integration, event: AlertEvent, now: datetime) -> tuple[AlertGroup, bool]:
    """The open group of the event's group key, locked with its incident; opened if missing.

    Race: many requests with a new key all find no group. Each tries to claim
    the key by inserting the group row first (``_claim``); the partial unique
    index makes every claim after the first wait until the first transaction
    commits and then insert nothing, so the losers join the winner's incident.
    Only the winner creates an incident, so a storm of one new alert takes the
    (global, gap-free) incident number lock once, not once per request.
    """
    # On PostgreSQL a plain trigger reaches here only after the one-statement
    # join found no open incident for its key: most likely the key is new, so
    # claim it first and look for an open group only if that fails.
    claim_first = not event.upsert and connection.vendor == "postgresql"
    for attempt in range(3):
        if attempt or not claim_first:
            group = _locked_open_group(integration, event.group_key)
            if group is not None and group.incident.is_open:
                return group, False
            if group is not None:
                # Resolved by a person, not through ingestion: the next trigger starts afresh.
                _close(group, now)
        group_id = _claim(integration, event.group_key, now)
        if group_id is None:
            continue  # someone else holds the key: join their incident (or close it if resolved)
        if Integration.service.is_cached(integration) and "severity_map" not in integration.get_deferred_fields():
            service = integration.service
        else:
            service, integration.severity_map = _service_and_map(integration)
        # Inside this transaction already: no savepoint of create_incident's own.
        # _trigger numbers and announces it once the alert is stored (_announce).
        incident = _create_incident(
            severity=_severity_for(integration, event.severity), team=service.team, by=None, services=[service],
            source=Source.ALERT, now=now, **alerts_pg.incident_fields(integration, event, now),
        )
        AlertGroup.objects.filter(pk=group_id).update(incident=incident)
        group = AlertGroup(pk=group_id, integration=integration, dedup_key=event.group_key, incident=incident,
                           created_at=now)
        return group, True
    raise RuntimeError(f"Could not open or join the incident of key {event.group_key!r}")


def _new_alert(integration, event, now, *, incident=None, window=None) -> Alert:
    return Alert.objects.create(
        integration=integration, incident=incident, suppressed_by_id=window, status=AlertStatus.FIRING,
        received_at=now, last_seen_at=now, **alerts_pg.alert_fields(event),
    )


def _refresh(alert: Alert, event: AlertEvent, now: datetime) -> None:
    alert.labels, alert.annotations, alert.last_seen_at = event.labels, event.annotations, now
    if event.summary:
        alert.summary = event.summary[:1024]
    if event.runbook_url:
        alert.runbook_url = event.runbook_url[:2000]
    alert.save(update_fields=["labels", "annotations", "last_seen_at", "summary", "runbook_url"])


def _trigger(integration: Integration, event: AlertEvent, window, now: datetime) -> Outcome:
    if window is not None:
        # Stored and shown, but no incident and no page.
        existing = None
        if event.upsert:
            existing = Alert.objects.filter(
                integration=integration, dedup_key=event.dedup_key, status=AlertStatus.FIRING, incident=None
            ).first()
        if existing is not None:
            _refresh(existing, event, now)
            return Outcome("suppressed", event.dedup_key)
        _new_alert(integration, event, now, window=window)
        return Outcome("suppressed", event.dedup_key)

    group, opened = _open_or_join(integration, event, now)
    incident = group.incident
    if event.upsert and not opened:
        existing = Alert.objects.filter(
            integration=integration, dedup_key=event.dedup_key, status=AlertStatus.FIRING, incident=incident
        ).first()
        if existing is not None:
            _refresh(existing, event, now)
            _count_alert(incident, now, added=0)
            return Outcome("updated", event.dedup_key, incident)
    # The open group and its incident are ours (locked): on PostgreSQL add the alert and count it in one statement.
    joined = alerts_pg.join_open_incident(integration, event, now) if connection.vendor == "postgresql" else None
    if joined is not None:
        incident.alert_count, incident.last_alert_at = joined.alert_count, now
    else:
        _new_alert(integration, event, now, incident=incident)
        _count_alert(incident, now, added=1)
    if opened:
        _announce(incident, None)  # the number (and its lock) last
    return Outcome("triggered" if opened else "deduplicated", event.dedup_key, incident)


def _count_alert(incident: Incident, now: datetime, *, added: int) -> None:
    """Bump the incident's denormalised alert count and last-alert time.

    Called with the incident row locked (taken with its group), so counts
    never go missing. A direct UPDATE of a historied model is deliberate
    here: Incident excludes exactly these fields from its history (the
    alerts are their own rows on the timeline), so there is nothing to record.
    Raw SQL because it runs for every event (see docs/benchmarks.md).
    """
    incident.alert_count += added
    incident.last_alert_at = now
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Incident._meta.db_table} SET alert_count = alert_count + %s, "  # noqa: S608 - our table
            "last_alert_at = %s, updated_at = %s WHERE id = %s",
            [added, at, at, incident.pk],
        )


def _acknowledge(integration: Integration, event: AlertEvent, now: datetime) -> Outcome:
    group = _locked_open_group(integration, event.group_key)
    if group is None or group.incident.status != "triggered":
        return Outcome("ignored", event.dedup_key, group.incident if group else None)
    incident = acknowledge_incident(
        incident=group.incident, by=None, note=f"Acknowledged by {integration.name}", now=now
    )
    return Outcome("acknowledged", event.dedup_key, incident)


def _resolve_alerts(qs, when: datetime) -> int:
    return qs.filter(status=AlertStatus.FIRING).update(status=AlertStatus.RESOLVED, resolved_at=when)


def _resolve_suppressed(integration: Integration, dedup_key: str, when: datetime) -> int:
    """Resolve the key's alerts that fired during a maintenance window (they have no incident)."""
    return _resolve_alerts(Alert.objects.filter(integration=integration, dedup_key=dedup_key, incident=None), when)


def _resolve(integration: Integration, event: AlertEvent, now: datetime) -> Outcome:
    ended = event.ended_at if event.ended_at and event.ended_at <= now else now
    # An alert that fired during maintenance and still fires resolves with its key,
    # whether or not the key has opened an incident since the window ended.
    suppressed = _resolve_suppressed(integration, event.dedup_key, ended)
    group = _locked_open_group(integration, event.group_key)
    if group is None:
        return Outcome("resolved" if suppressed else "ignored", event.dedup_key)
    incident = group.incident
    if event.upsert:
        # One alert of the group resolved; the incident follows when all have.
        _resolve_alerts(Alert.objects.filter(incident=incident, dedup_key=event.dedup_key), ended)
        still_firing = Alert.objects.filter(incident=incident, status=AlertStatus.FIRING).exists()
        if still_firing or not integration.auto_resolve:
            return Outcome("resolved", event.dedup_key, incident)
    else:
        _resolve_alerts(Alert.objects.filter(incident=incident), ended)
    if incident.is_open:
        incident = resolve_incident(incident=incident, by=None, note=f"Resolved by {integration.name}", now=now)
    _close(group, now)
    return Outcome("resolved", event.dedup_key, incident)


# --- Heartbeats --------------------------------------------------------------

@transaction.atomic
def ping_heartbeat(*, integration: Integration, now: datetime | None = None) -> Outcome:
    """Record a ping; if the heartbeat was down, resolve the incident its absence opened."""
    now = now or timezone.now()
    locked = Integration.objects.select_for_update().select_related("service__team").get(pk=integration.pk)
    was_down = locked.heartbeat_state == HeartbeatState.DOWN
    locked.heartbeat_state = HeartbeatState.UP
    locked.last_ping_at = now
    locked.due_at = locked.due_after(now)
    locked.save_without_historical_record(update_fields=["heartbeat_state", "last_ping_at", "due_at"])
    if was_down:
        return _resolve(locked, AlertEvent(action="resolve", dedup_key=HEARTBEAT_DEDUP_KEY), now)
    # Up, but perhaps missed during a maintenance window: that alert resolves now.
    if _resolve_suppressed(locked, HEARTBEAT_DEDUP_KEY, now):
        return Outcome("resolved", HEARTBEAT_DEDUP_KEY)
    return Outcome("ignored", HEARTBEAT_DEDUP_KEY)


def check_heartbeats(*, now: datetime | None = None) -> int:
    """Open an incident for every heartbeat overdue past its interval plus grace.

    Safe to run twice or concurrently: each heartbeat is re-checked under its
    row lock, and a heartbeat already down is left alone. Returns how many went down.
    """
    now = now or timezone.now()
    due = Integration.objects.filter(
        kind=IntegrationKind.HEARTBEAT, enabled=True, heartbeat_state=HeartbeatState.UP, due_at__lte=now
    ).values_list("pk", flat=True)
    return sum(_miss_heartbeat(pk, now) for pk in list(due))


@transaction.atomic
def _miss_heartbeat(pk: int, now: datetime) -> bool:
    locked = Integration.objects.select_for_update().select_related("service__team").get(pk=pk)
    if locked.heartbeat_state != HeartbeatState.UP or not locked.enabled or locked.due_at > now:
        return False
    window = (MaintenanceWindow.objects.filter(service_id=locked.service_id).active_at(now)
              .order_by("-ends_at").values_list("pk", "ends_at").first())
    last = locked.last_ping_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    # upsert: a heartbeat missed through several windows is one suppressed alert, refreshed.
    event = AlertEvent(
        action="trigger", dedup_key=HEARTBEAT_DEDUP_KEY, severity="critical", source="vigil-heartbeat",
        summary=f"Heartbeat “{locked.name}” of {locked.service.name} missed: no ping since {last}",
        details={"last_ping_at": locked.last_ping_at.isoformat(), "interval_seconds": locked.interval_seconds,
                 "grace_seconds": locked.grace_seconds},
        upsert=True,
    )
    if window is not None:
        # Shown, pages no one; still up, and checked again when the window ends, so
        # a heartbeat that stays silent after maintenance does open an incident.
        ingest_event(integration=locked, now=now, event=event, window_id=window[0])
        locked.due_at = window[1]
        locked.save_without_historical_record(update_fields=["due_at"])
        return False
    locked.heartbeat_state = HeartbeatState.DOWN
    locked.save_without_historical_record(update_fields=["heartbeat_state"])
    ingest_event(integration=locked, now=now, event=event, window_id=None)
    return True
