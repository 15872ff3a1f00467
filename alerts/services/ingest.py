"""Every write of alert ingestion: events and heartbeats (integration setup is in ``integrations``).

One path, the same on SQLite and PostgreSQL, written with the ORM.
``ingest_events`` stores a request's events in one transaction, all or none,
and the endpoint answers 202 only after it has committed:

- Events are applied by group key (an event's dedup key; an Alertmanager
  notification's groupKey), triggers before acknowledgements and resolves.
  A group costs a constant number of queries however many alerts it
  carries: one locked lookup of its open group and incident, ``__in``
  lookups of the alerts it already has, one ``bulk_create`` of the new
  alerts, one ``UPDATE`` of their incident's count. Alerts are not
  historied, so bulk writes bypass nothing.
- A new key is claimed by inserting its open ``AlertGroup`` row, which the
  partial unique index allows once (``_claim``): concurrent triggers of one
  new key open one incident, and only the claimer creates it and takes the
  year's gap-free number, last (``_announce``).
- Incidents are opened through ``_create_incident``/``_announce`` and moved
  through ``acknowledge_incident``/``resolve_incident`` (by=None: the
  system), so history, signals and escalation see alert incidents exactly
  like declared ones.
- During a maintenance window of the integration's service, triggers store
  their alerts (suppressed) and open nothing.

Locks, in this order everywhere: the open group row of a key with its
incident's row (one ``SELECT … FOR UPDATE``), then the alerts' rows.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone

from core.text import CONTROL
from incidents.models import Incident, MaintenanceWindow, Service, Severity, Source
from incidents.services.incident import (
    _announce,
    _create_incident,
    acknowledge_incident,
    resolve_incident,
)

from ..models import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertGroup,
    AlertStatus,
    HeartbeatState,
    Integration,
    IntegrationKind,
)

HEARTBEAT_DEDUP_KEY = "heartbeat"


# --- Events ------------------------------------------------------------------

@dataclass
class AlertEvent:
    """One normalised event, whatever endpoint it came from.

    ``dedup_key`` identifies the alert; ``group_key`` the incident it opens or
    joins (the same for Events v2 and webhooks, the groupKey for Alertmanager).
    ``upsert`` means one alert per dedup key (Alertmanager fingerprints): a
    repeated firing alert updates the alert instead of adding one.
    ``unknown_fields`` are the parts of the body Vigil does not know, kept on the alert.
    ``note`` is the sender's word on an acknowledge or resolve (Opsgenie's
    ``user`` and ``note``), added to the incident's change reason.
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
    unknown_fields: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    images: list = field(default_factory=list)
    runbook_url: str = ""
    generator_url: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    upsert: bool = False
    note: str = ""

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


def ingest_event(*, integration: Integration, event: AlertEvent, now: datetime | None = None) -> Outcome:
    """Apply one event; the guarantees of ``ingest_events``."""
    return ingest_events(integration=integration, events=[event], now=now)[0]


@transaction.atomic
def ingest_events(
    *, integration: Integration, events: list[AlertEvent], now: datetime | None = None
) -> list[Outcome]:
    """Apply events in one transaction: all are stored, or none. Returns one outcome per event, in order.

    Triggers are applied before the rest, so a notification that resolves
    one alert of a group and starts another never auto-resolves the incident
    in between. The queries depend on the number of group keys, not of events.
    """
    now = now or timezone.now()
    outcomes: list[Outcome | None] = [None] * len(events)
    batches: dict[tuple[bool, str, str], list[int]] = {}
    for i, event in enumerate(events):
        batches.setdefault((event.action != "trigger", event.action, event.group_key), []).append(i)
    window = None
    if any(event.action == "trigger" for event in events):
        window = _active_window_id(integration.service_id, now)
    for (_, action, group_key), indexes in sorted(batches.items(), key=lambda item: item[0][0]):
        batch = [events[i] for i in indexes]
        if action == "trigger":
            results = _trigger(integration, group_key, batch, window, now)
        elif action == "acknowledge":
            results = [_acknowledge(integration, group_key, event, now) for event in batch]
        else:
            results = _resolve(integration, group_key, batch, now)
        for i, outcome in zip(indexes, results, strict=True):
            outcomes[i] = outcome
    return outcomes  # type: ignore[return-value]


def _active_window_id(service_id: int, now: datetime) -> int | None:
    """The service's maintenance window active at ``now``, if any (index maint_service_ends)."""
    return (MaintenanceWindow.objects.filter(service_id=service_id).active_at(now)
            .order_by("-starts_at").values_list("pk", flat=True).first())


def _locked_open_group(integration: Integration, key: str) -> AlertGroup | None:
    """The open group of a key with its incident, both rows locked (``FOR UPDATE OF`` both on PostgreSQL).

    Only committed groups, which always have an incident: the inner join
    skips a group being claimed by this transaction (see ``_claim``). Only
    the incident fields ingestion reads are loaded (it runs for every
    event); any other loads on access.
    """
    return (AlertGroup.objects.select_related("incident").select_for_update(of=("self", "incident"))
            .filter(integration=integration, dedup_key=key, closed_at=None, incident__isnull=False)
            .only("incident__number", "incident__status", "incident__alert_count").first())


def _claim(integration: Integration, key: str, now: datetime) -> AlertGroup | None:
    """Insert the open group of ``key`` (no incident yet) and return it; None if another transaction holds it.

    ``ON CONFLICT DO NOTHING`` (SQLite: ``INSERT OR IGNORE``) against the
    partial unique index: a second claimer's insert waits until the first
    transaction ends, then inserts nothing (it committed) or its own row (it
    rolled back). No savepoint, no exception. The open group read next is
    ours if it has no incident: a committed group always has one.
    """
    AlertGroup.objects.bulk_create(
        [AlertGroup(integration=integration, dedup_key=key, created_at=now)], ignore_conflicts=True
    )
    group = (AlertGroup.objects.filter(integration=integration, dedup_key=key, closed_at=None)
             .only("pk", "incident").first())
    return group if group is not None and group.incident_id is None else None


def _open_or_join(integration: Integration, event: AlertEvent, now: datetime) -> tuple[AlertGroup, bool]:
    """The open group of the event's group key, locked with its incident; opened (True) if there was none.

    Race: many requests with a new key all find no group. Each tries to claim
    the key (``_claim``); the partial unique index makes every claim after
    the first wait until the first transaction commits and then insert
    nothing, so the losers join the winner's incident. Only the winner
    creates an incident, so a storm of one new alert takes the (global,
    gap-free) incident number lock once, not once per request.
    """
    for _ in range(3):
        group = _locked_open_group(integration, event.group_key)
        if group is not None and group.incident.is_open:
            return group, False
        if group is not None:
            # Resolved by a person, not through ingestion: the next trigger starts afresh.
            _close(group, now)
        group = _claim(integration, event.group_key, now)
        if group is None:
            continue  # someone else holds the key: join their incident (or close it if resolved)
        service = Service.objects.select_related("team").get(pk=integration.service_id)
        # Inside this transaction already: no savepoint of create_incident's own.
        # _trigger numbers and announces it once the alerts are stored (_announce).
        group.incident = _create_incident(
            severity=_severity_for(integration, event.severity), team=service.team, by=None, services=[service],
            source=Source.ALERT, now=now, **_incident_fields(integration, event, now),
        )
        group.save(update_fields=["incident"])
        return group, True
    raise RuntimeError(f"Could not open or join the incident of key {event.group_key!r}")


def _severity_for(integration: Integration, payload_severity: str) -> Severity | None:
    """The severity the integration maps ``payload_severity`` to; else the default map's; else the highest."""
    wanted = integration.severity_name(payload_severity)
    fallback = DEFAULT_SEVERITY_MAP.get(payload_severity, "SEV1")
    preference = Case(When(name=wanted, then=Value(0)), When(name=fallback, then=Value(1)), default=Value(2))
    return Severity.objects.order_by(preference, "rank").first()


def _one_line(text: str) -> str:
    """``text`` on one line: every run of white space or control characters becomes one space.

    An alert's summary may span lines (Alertmanager annotations often do); the
    alert keeps it as sent, the incident's title is one line (core.text.validate_one_line).
    """
    return " ".join(CONTROL.sub(" ", text).split())


def _incident_fields(integration: Integration, event: AlertEvent, now: datetime) -> dict:
    return {
        "title": _one_line(event.summary or event.dedup_key)[:255] or "Alert",
        "description": f"Opened by the {integration.get_kind_display()} integration “{integration.name}”.",
        "started_at": event.started_at if event.started_at and event.started_at <= now else None,
    }


def _alert_fields(event: AlertEvent) -> dict:
    """The alert fields an event sets, cut to their columns' lengths."""
    return {
        "dedup_key": event.dedup_key, "summary": (event.summary or event.dedup_key)[:1024],
        "source": event.source[:255], "severity": event.severity, "component": event.component[:255],
        "group": event.group[:255], "alert_class": event.alert_class[:255], "details": event.details,
        "labels": event.labels, "annotations": event.annotations, "unknown_fields": event.unknown_fields,
        "links": event.links, "images": event.images, "runbook_url": event.runbook_url[:2000],
        "generator_url": event.generator_url[:2000], "started_at": event.started_at,
    }


# What a repeated firing Alertmanager alert may change besides last_seen_at.
_REFRESHED = ("labels", "annotations", "unknown_fields", "summary", "runbook_url")


def _store_alerts(integration: Integration, events: list[AlertEvent], now: datetime, *,
                  incident: Incident | None, window: int | None, fresh: bool) -> list[bool]:
    """Store the events' alerts; per event, whether it added one (else it refreshed a firing one).

    Every event adds an alert, except an ``upsert`` event (an Alertmanager
    fingerprint) whose key already has a firing alert — of ``incident``, or
    held by a maintenance window when ``incident`` is None — which it
    refreshes instead. ``fresh``: the incident was opened just now and has
    no alerts to look up. At most four queries, however many events:
    the firing alerts by key, one ``bulk_create``, one ``UPDATE`` of
    ``last_seen_at``, one ``bulk_update`` of the alerts whose content changed.
    """
    upserts = {event.dedup_key for event in events if event.upsert}
    firing: dict[str, Alert] = {}
    if upserts and not fresh:
        firing = {alert.dedup_key: alert for alert in Alert.objects.filter(
            integration=integration, dedup_key__in=upserts, status=AlertStatus.FIRING, incident=incident,
        ).only("dedup_key", *_REFRESHED)}
    added, new, seen, changed = [], [], {}, {}
    for event in events:
        alert = (firing.get(event.dedup_key) or seen.get(event.dedup_key)) if event.upsert else None
        if alert is None:
            alert = Alert(integration=integration, incident=incident, suppressed_by_id=window,
                          status=AlertStatus.FIRING, received_at=now, last_seen_at=now, **_alert_fields(event))
            new.append(alert)
            if event.upsert:
                seen[event.dedup_key] = alert  # the same fingerprint twice in one notification: one alert
            added.append(True)
            continue
        added.append(False)
        fields = {"labels": event.labels, "annotations": event.annotations, "unknown_fields": event.unknown_fields}
        if event.summary:
            fields["summary"] = event.summary[:1024]
        if event.runbook_url:
            fields["runbook_url"] = event.runbook_url[:2000]
        if any(getattr(alert, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(alert, name, value)
            if alert.pk is not None:
                changed[alert.pk] = alert
    Alert.objects.bulk_create(new)
    if firing:
        Alert.objects.filter(pk__in=[alert.pk for alert in firing.values()]).update(last_seen_at=now)
    if changed:
        Alert.objects.bulk_update(changed.values(), _REFRESHED)
    return added


def _trigger(integration: Integration, group_key: str, events: list[AlertEvent], window: int | None,
             now: datetime) -> list[Outcome]:
    if window is not None:
        # Stored and shown, but no incident and no page.
        _store_alerts(integration, events, now, incident=None, window=window, fresh=False)
        return [Outcome("suppressed", event.dedup_key) for event in events]

    group, opened = _open_or_join(integration, events[0], now)
    incident = group.incident
    added = _store_alerts(integration, events, now, incident=incident, window=None, fresh=opened)
    _count_alerts(incident, now, added=sum(added))
    if opened:
        _announce(incident, None)  # the number (and its lock) last
    outcomes, first = [], opened
    for event, new in zip(events, added, strict=True):
        result = ("triggered" if first else "deduplicated") if new else "updated"
        first = first and not new
        outcomes.append(Outcome(result, event.dedup_key, incident))
    return outcomes


def _count_alerts(incident: Incident, now: datetime, *, added: int) -> None:
    """Add to the incident's denormalised alert count and set its last-alert time.

    Called with the incident row locked (taken with its group), so counts
    never go missing. A queryset ``update`` of a historied model is
    deliberate here: Incident excludes exactly these fields from its history
    (the alerts are their own rows on the timeline), so there is nothing to record.
    """
    Incident.objects.filter(pk=incident.pk).update(
        alert_count=F("alert_count") + added, last_alert_at=now, updated_at=now
    )
    incident.alert_count += added
    incident.last_alert_at = now


def _close(group: AlertGroup, now: datetime) -> None:
    group.closed_at = now
    group.save(update_fields=["closed_at"])


def _acknowledge(integration: Integration, group_key: str, event: AlertEvent, now: datetime) -> Outcome:
    group = _locked_open_group(integration, group_key)
    if group is None or group.incident.status != "triggered":
        return Outcome("ignored", event.dedup_key, group.incident if group else None)
    incident = acknowledge_incident(
        incident=group.incident, by=None, note=_reason("Acknowledged", integration, [event]), now=now
    )
    return Outcome("acknowledged", event.dedup_key, incident)


def _reason(done: str, integration: Integration, events: list[AlertEvent]) -> str:
    """The change reason of a transition the integration made, with the sender's note if it gave one."""
    note = next((event.note for event in events if event.note), "")
    return f"{done} by {integration.name}" + (f": {note}" if note else "")


def _resolve_alerts(alerts, ended: dict[str, datetime], default: datetime) -> int:
    """Resolve the firing ``alerts``, each at the end time of its key in ``ended`` (else ``default``): one UPDATE."""
    by_time: dict[datetime, list[str]] = {}
    for key, when in ended.items():
        by_time.setdefault(when, []).append(key)
    resolved_at = Case(
        *[When(dedup_key__in=keys, then=Value(when, output_field=DateTimeField())) for when, keys in by_time.items()],
        default=Value(default, output_field=DateTimeField()),
    )
    return alerts.filter(status=AlertStatus.FIRING).update(status=AlertStatus.RESOLVED, resolved_at=resolved_at)


def _resolve(integration: Integration, group_key: str, events: list[AlertEvent], now: datetime) -> list[Outcome]:
    """Resolve the events' alerts, then their incident if nothing of it fires any more.

    An event that is not an ``upsert`` (Events v2, webhook, heartbeat, an Opsgenie close)
    resolves its key's incident and all of its alerts. Upserts (Alertmanager)
    resolve their own alert; the incident follows once all of its alerts have
    resolved, if the integration auto-resolves. An alert that fired during a
    maintenance window resolves with its key, whether or not the key has
    opened an incident since.
    """
    ended = {event.dedup_key: event.ended_at if event.ended_at and event.ended_at <= now else now
             for event in events}
    upsert = all(event.upsert for event in events)
    group = _locked_open_group(integration, group_key)
    incident = group.incident if group is not None else None
    keys = list(ended)
    which = Q(incident=None, dedup_key__in=keys)
    if incident is not None:
        which |= Q(incident=incident, dedup_key__in=keys) if upsert else Q(incident=incident)
    alerts = Alert.objects.filter(which, integration=integration)
    if incident is None:
        held = set(alerts.filter(status=AlertStatus.FIRING).values_list("dedup_key", flat=True))
        _resolve_alerts(alerts, ended, now)
        return [Outcome("resolved" if event.dedup_key in held else "ignored", event.dedup_key) for event in events]
    _resolve_alerts(alerts, ended, now)
    if upsert and (not integration.auto_resolve
                   or Alert.objects.filter(incident=incident, status=AlertStatus.FIRING).exists()):
        return [Outcome("resolved", event.dedup_key, incident) for event in events]
    if incident.is_open:
        incident = resolve_incident(incident=incident, by=None, note=_reason("Resolved", integration, events), now=now)
    _close(group, now)
    return [Outcome("resolved", event.dedup_key, incident) for event in events]


# --- Heartbeats --------------------------------------------------------------

@transaction.atomic
def ping_heartbeat(*, integration: Integration, now: datetime | None = None) -> Outcome:
    """Record a ping; if the heartbeat was down, resolve the incident its absence opened."""
    now = now or timezone.now()
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    was_down = locked.heartbeat_state == HeartbeatState.DOWN
    locked.heartbeat_state = HeartbeatState.UP
    locked.last_ping_at = now
    locked.due_at = locked.due_after(now)
    locked.save_without_historical_record(update_fields=["heartbeat_state", "last_ping_at", "due_at"])
    if was_down:
        event = AlertEvent(action="resolve", dedup_key=HEARTBEAT_DEDUP_KEY)
        return _resolve(locked, HEARTBEAT_DEDUP_KEY, [event], now)[0]
    # Up, but perhaps missed during a maintenance window: that alert resolves now.
    held = Alert.objects.filter(integration=locked, dedup_key=HEARTBEAT_DEDUP_KEY, incident=None)
    if _resolve_alerts(held, {}, now):
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
    last = locked.last_ping_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    # upsert: a heartbeat missed through several windows is one suppressed alert, refreshed.
    event = AlertEvent(
        action="trigger", dedup_key=HEARTBEAT_DEDUP_KEY, severity="critical", source="vigil-heartbeat",
        summary=f"Heartbeat “{locked.name}” of {locked.service.name} missed: no ping since {last}",
        details={"last_ping_at": locked.last_ping_at.isoformat(), "interval_seconds": locked.interval_seconds,
                 "grace_seconds": locked.grace_seconds},
        upsert=True,
    )
    # In a window the alert is stored as suppressed and pages no one.
    if ingest_event(integration=locked, now=now, event=event).result == "suppressed":
        window_ends_at = (MaintenanceWindow.objects.filter(service_id=locked.service_id).active_at(now)
                          .order_by("-ends_at").values_list("ends_at", flat=True).first())
        # Still up, and checked again when the window ends, so a heartbeat
        # that stays silent after maintenance does open an incident.
        locked.due_at = window_ends_at
        locked.save_without_historical_record(update_fields=["due_at"])
        return False
    locked.heartbeat_state = HeartbeatState.DOWN
    locked.save_without_historical_record(update_fields=["heartbeat_state"])
    return True
