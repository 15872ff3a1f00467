"""Input validation for the ingest endpoints, turning payloads into AlertEvents.

Plain functions rather than DRF serializers: the payloads are foreign
formats (PagerDuty, Alertmanager, Grafana), every error names the field and
says how to fix it, and this is the hot path. Lenient with senders, strict
with meaning: a field Vigil does not know is no error — it is kept on the
alert (``AlertEvent.unknown_fields``, in the body's shape) and counted
(``Errors.unknown``, for ``vigil_ingest_unknown_fields_total``) — while a
missing or wrongly typed field Vigil needs is. Each ``parse_*`` returns its
events with an ``Errors``: the list of problems (strings).
"""

import hashlib
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from core.instants import RANGE, in_range

from .models import PAYLOAD_SEVERITIES
from .services.ingest import AlertEvent, new_dedup_key

EVENT_ACTIONS = ["trigger", "acknowledge", "resolve"]
# Alertmanager's pagerduty_configs sends `client`/`client_url`; PagerDuty documents them too.
V2_KEYS = {"routing_key", "event_action", "dedup_key", "payload", "links", "images", "client", "client_url"}
V2_PAYLOAD_KEYS = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}
AM_KEYS = {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
           "commonAnnotations", "externalURL", "alerts",
           # Grafana alerting's webhook contact point sends the Alertmanager shape plus these.
           "orgId", "title", "state", "message"}
AM_ALERT_KEYS = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint",
                 "values", "valueString", "silenceURL", "dashboardURL", "panelURL", "imageURL", "orgId"}
WEBHOOK_KEYS = {"title", "severity", "dedup_key", "status", "details"}
MAX_ALERTS = 1000

# Opsgenie's priority → the payload severity the integration's severity map reads, so by default
# P1→SEV1, P2→SEV2, P3→SEV3, P4 and P5→SEV4. P3 when none is given, as Opsgenie does.
OPSGENIE_PRIORITIES = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info", "P5": "info"}
OPSGENIE_DEFAULT_PRIORITY = "P3"
# Opsgenie's Create Alert fields. Those without a column of their own (description, priority as sent,
# tags, and the routing fields Vigil does not act on) are kept in the alert's ``annotations``.
OPSGENIE_KEYS = {"message", "alias", "description", "responders", "visibleTo", "actions", "tags", "details",
                 "entity", "source", "priority", "user", "note"}
OPSGENIE_KEPT = ("description", "priority", "tags", "responders", "visibleTo", "actions", "user", "note")
# Close and Acknowledge take {user?, source?, note?}.
OPSGENIE_ACTION_KEYS = {"user", "source", "note"}
OPSGENIE_IDENTIFIER_TYPES = ["id", "alias", "tiny"]


class Errors(list):
    """The problems found in a body, one string each; ``unknown`` counts the fields kept but not known."""

    unknown = 0

    def unknown_fields(self, data: dict, known: set) -> dict:
        """The fields of ``data`` not in ``known``, as sent; counted in ``self.unknown``."""
        extra = {key: value for key, value in data.items() if key not in known}
        self.unknown += len(extra)
        return extra

    def string(self, data: dict, key: str, where: str = "", *, required=False, max_length=255) -> str:
        value = data.get(key)
        name = f"'{where}{key}'"
        if value is None:
            if required:
                self.append(f"{name} is missing; give a string.")
            return ""
        if not isinstance(value, str):
            self.append(f"{name} must be a string, not {type(value).__name__}.")
            return ""
        if required and not value.strip():
            self.append(f"{name} must not be empty.")
        if len(value) > max_length:
            self.append(f"{name} is longer than {max_length} characters.")
            return ""
        return value

    def choice(self, data: dict, key: str, choices: list, where: str = "", *, required=False, default="") -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.append(f"'{where}{key}' is missing; use one of {', '.join(choices)}.")
            return default
        if value not in choices:
            self.append(f"'{where}{key}' must be one of {', '.join(choices)} (got {value!r}).")
            return default
        return value

    def mapping(self, data: dict, key: str, where: str = "", *, strings=False) -> dict:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.append(f"'{where}{key}' must be an object, not {type(value).__name__}.")
            return {}
        if strings and not all(isinstance(v, str) for v in value.values()):
            self.append(f"'{where}{key}' must map names to strings.")
            return {}
        return value

    def timestamp(self, data: dict, key: str, where: str = "") -> datetime | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.append(f"'{where}{key}' must be an ISO 8601 string such as 2026-11-20T14:00:00Z.")
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            self.append(f"'{where}{key}' is not an ISO 8601 time ({value!r}); use e.g. 2026-11-20T14:00:00Z.")
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when.year <= 1:  # Alertmanager's "0001-01-01T00:00:00Z" means "not set"
            return None
        if not in_range(when):  # far from now, it could not be read back or shown in every time zone
            self.append(f"'{where}{key}' is out of range ({value!r}); give a time {RANGE}.")
            return None
        return when.astimezone(UTC)


def fit_key(key: str) -> str:
    """A dedup key that fits its column: ``key`` itself up to 255 characters, else its SHA-256 digest."""
    if len(key) > 255:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def safe_url(value) -> str:
    """Only http(s) URLs become links on our pages (never javascript:)."""
    if isinstance(value, str) and len(value) <= 2000 and urlsplit(value).scheme in ("http", "https"):
        return value
    return ""


def _links(errors: Errors, data: dict, key: str, required_key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(f"'{key}' must be a list of objects with '{required_key}'.")
        return []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            errors.append(f"'{key}[{i}]' must be an object with '{required_key}'.")
            continue
        # Kept as sent: any other key of a link or image stays in the list.
        errors.string(item, required_key, f"{key}[{i}].", required=True, max_length=2000)
    return value


def parse_events_v2(data) -> tuple[str, AlertEvent | None, Errors]:
    """PagerDuty Events API v2. Returns (routing_key, event, errors)."""
    errors = Errors()
    if not isinstance(data, dict):
        errors.append("The body must be a JSON object.")
        return "", None, errors
    unknown = errors.unknown_fields(data, V2_KEYS)
    routing_key = errors.string(data, "routing_key", required=True, max_length=128)
    action = errors.choice(data, "event_action", EVENT_ACTIONS, required=True)
    dedup_key = errors.string(data, "dedup_key", max_length=255)
    if action in ("acknowledge", "resolve") and data.get("dedup_key") in (None, ""):
        errors.append(f"'dedup_key' is missing; it is required to {action}.")
    links = _links(errors, data, "links", "href")
    images = _links(errors, data, "images", "src")
    errors.string(data, "client", max_length=255)
    errors.string(data, "client_url", max_length=2000)
    payload = data.get("payload")
    event = AlertEvent(action=action, dedup_key=dedup_key, links=links, images=images, unknown_fields=unknown)
    if action == "trigger" or payload is not None:
        if payload is None:
            errors.append("'payload' is missing; a trigger needs {summary, source, severity}.")
        elif not isinstance(payload, dict):
            errors.append(f"'payload' must be an object, not {type(payload).__name__}.")
        else:
            required = action == "trigger"
            if extra := errors.unknown_fields(payload, V2_PAYLOAD_KEYS):
                unknown["payload"] = extra
            event.summary = errors.string(payload, "summary", "payload.", required=required, max_length=1024)
            event.source = errors.string(payload, "source", "payload.", required=required)
            event.severity = errors.choice(payload, "severity", PAYLOAD_SEVERITIES, "payload.",
                                           required=required, default="critical")
            event.started_at = errors.timestamp(payload, "timestamp", "payload.")
            event.component = errors.string(payload, "component", "payload.")
            event.group = errors.string(payload, "group", "payload.")
            event.alert_class = errors.string(payload, "class", "payload.")
            details = payload.get("custom_details")
            event.details = details if isinstance(details, dict) else ({} if details is None else {"details": details})
    if action == "trigger" and not dedup_key:
        event.dedup_key = new_dedup_key()
    event.group_key = event.dedup_key
    return routing_key, (None if errors else event), errors


def parse_alertmanager(data) -> tuple[list[AlertEvent], Errors]:
    """Alertmanager webhook, version 4 (and Grafana alerting's webhook, version 1)."""
    errors = Errors()
    if not isinstance(data, dict):
        errors.append("The body must be a JSON object (Alertmanager webhook format version 4).")
        return [], errors
    unknown = errors.unknown_fields(data, AM_KEYS)
    version = data.get("version")
    if version not in ("4", "1"):
        errors.append(f"'version' must be \"4\" (Alertmanager) or \"1\" (Grafana), got {version!r}.")
    group_key = errors.string(data, "groupKey", required=True, max_length=10_000)
    errors.choice(data, "status", ["firing", "resolved"], required=True)
    common = errors.mapping(data, "commonAnnotations", strings=True)
    for key in ("groupLabels", "commonLabels"):
        errors.mapping(data, key, strings=True)
    for key in ("receiver", "externalURL"):
        errors.string(data, key, max_length=2000)
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        errors.append("'alerts' must be a non-empty list of alerts.")
        return [], errors
    if len(alerts) > MAX_ALERTS:
        errors.append(f"'alerts' holds {len(alerts)} alerts; send at most {MAX_ALERTS} per request.")
        return [], errors
    group_key = fit_key(group_key)  # groupKey can be longer than the dedup key column
    events = []
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]."
        if not isinstance(alert, dict):
            errors.append(f"'alerts[{i}]' must be an object.")
            continue
        extra = errors.unknown_fields(alert, AM_ALERT_KEYS)
        status = errors.choice(alert, "status", ["firing", "resolved"], where, required=True)
        fingerprint = errors.string(alert, "fingerprint", where, required=True)
        labels = errors.mapping(alert, "labels", where, strings=True)
        if "labels" not in alert:
            errors.append(f"'{where}labels' is missing; give an object of label names to values.")
        annotations = errors.mapping(alert, "annotations", where, strings=True)
        starts = errors.timestamp(alert, "startsAt", where)
        ends = errors.timestamp(alert, "endsAt", where)
        generator = errors.string(alert, "generatorURL", where, max_length=2000)
        severity = str(labels.get("severity", "")).lower()
        events.append(AlertEvent(
            action="trigger" if status == "firing" else "resolve",
            dedup_key=fingerprint, group_key=group_key, upsert=True,
            summary=annotations.get("summary") or annotations.get("description")
            or common.get("summary") or labels.get("alertname") or fingerprint,
            source=labels.get("instance") or labels.get("job") or "alertmanager",
            severity=severity if severity in PAYLOAD_SEVERITIES else "error",
            component=labels.get("job", ""), group=labels.get("alertname", ""),
            details={k: v for k, v in annotations.items() if k not in ("summary", "runbook_url")},
            labels=labels, annotations=annotations,
            runbook_url=safe_url(annotations.get("runbook_url") or common.get("runbook_url")),
            generator_url=safe_url(generator), started_at=starts, ended_at=ends,
            # The notification's unknown fields, and this alert's own in the place it has in the body.
            unknown_fields={**unknown, "alerts": [extra]} if extra else unknown,
        ))
    return ([] if errors else events), errors


def parse_webhook(data) -> tuple[AlertEvent | None, Errors]:
    """Generic JSON: {title, severity?, dedup_key?, status?: firing|resolved, details?}."""
    errors = Errors()
    if not isinstance(data, dict):
        errors.append("The body must be a JSON object: {title, severity?, dedup_key?, status?, details?}.")
        return None, errors
    unknown = errors.unknown_fields(data, WEBHOOK_KEYS)
    status = errors.choice(data, "status", ["firing", "resolved"], default="firing")
    title = errors.string(data, "title", required=status == "firing", max_length=1024)
    severity = errors.choice(data, "severity", PAYLOAD_SEVERITIES, default="error")
    dedup_key = errors.string(data, "dedup_key")
    details = errors.mapping(data, "details")
    if status == "resolved" and not dedup_key:
        errors.append("'dedup_key' is missing; it is required to resolve.")
    if errors:
        return None, errors
    return AlertEvent(
        action="trigger" if status == "firing" else "resolve", dedup_key=dedup_key or new_dedup_key(),
        summary=title, source="webhook", severity=severity, details=details, unknown_fields=unknown,
    ), errors


def _strings(errors: Errors, data: dict, key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.append(f"'{key}' must be a list of strings.")
        return []
    return value


def parse_opsgenie_create(data, request_id: str) -> tuple[AlertEvent | None, Errors]:
    """Opsgenie's Create Alert: {message, alias?, description?, priority?, tags?, details?, entity?, source?, …}.

    ``alias`` is the dedup key; without one the alert gets ``request_id`` as its key, so the id Vigil
    answers with closes it (identifierType=id). One alert per alias (``upsert``): a repeated create
    refreshes it, as Opsgenie counts a duplicate instead of adding an alert.
    """
    errors = Errors()
    if not isinstance(data, dict):
        errors.append("The body must be a JSON object: {message, alias?, description?, priority?, …}.")
        return None, errors
    unknown = errors.unknown_fields(data, OPSGENIE_KEYS)
    message = errors.string(data, "message", required=True, max_length=130)
    alias = errors.string(data, "alias", max_length=512)
    errors.string(data, "description", max_length=15_000)
    # An empty priority (a template that rendered nothing) is no priority.
    priority = errors.choice({"priority": data.get("priority") or None}, "priority", list(OPSGENIE_PRIORITIES),
                             default=OPSGENIE_DEFAULT_PRIORITY)
    # Opsgenie's own limits, except where a sender could exceed them without meaning to and lose the
    # alert: a tag longer than 50 characters (Grafana sends every common label as "name:value") is kept,
    # and a source (Alertmanager's default is its external URL) may have the column's 255.
    _strings(errors, data, "tags")
    details = errors.mapping(data, "details")
    entity = errors.string(data, "entity", max_length=512)
    source = errors.string(data, "source", max_length=255)
    errors.string(data, "user", max_length=100)
    errors.string(data, "note", max_length=25_000)
    if errors:
        return None, errors
    kept = {key: data[key] for key in OPSGENIE_KEPT if data.get(key) not in (None, "", [], {})}
    return AlertEvent(
        action="trigger", dedup_key=fit_key(alias) if alias else request_id, upsert=True,
        summary=message, source=source or "opsgenie", severity=OPSGENIE_PRIORITIES[priority], component=entity,
        details=details, annotations={**kept, "priority": priority}, unknown_fields=unknown,
    ), errors


def parse_opsgenie_action(data, *, action: str, identifier: str, identifier_type) -> tuple[AlertEvent | None, Errors]:
    """Opsgenie's Close (``action`` resolve) or Acknowledge Alert: the alert in the path, {user?, source?, note?}.

    ``identifierType`` ``alias`` (what Alertmanager and Grafana send) names the dedup key; ``id``
    (Opsgenie's default) the ``requestId`` Vigil answered to a create without an alias, which became its key.
    """
    errors = Errors()
    kind = errors.choice({"identifierType": identifier_type or "id"}, "identifierType", OPSGENIE_IDENTIFIER_TYPES)
    if kind == "tiny":
        errors.append("'identifierType' tiny is not supported: Vigil gives alerts no tiny ids; "
                      "use identifierType=alias.")
    elif kind == "id" and not _is_uuid(identifier):
        errors.append(f"'identifierType' id: {identifier[:80]!r} is not an id Vigil gave. Vigil's alert ids are the "
                      "requestId it answered to a create without alias; for an alert created with an alias, "
                      "use identifierType=alias.")
    elif kind == "alias" and len(identifier) > 512:
        errors.append("'alias' is longer than 512 characters.")
    if not isinstance(data, dict):
        errors.append("The body must be a JSON object: {user?, source?, note?}.")
        return None, errors
    unknown = errors.unknown_fields(data, OPSGENIE_ACTION_KEYS)
    user = errors.string(data, "user", max_length=100)
    errors.string(data, "source", max_length=100)
    note = errors.string(data, "note", max_length=25_000)
    if errors:
        return None, errors
    said = " ".join(note.split())  # the note joins a one-line change reason
    return AlertEvent(
        action=action, dedup_key=fit_key(identifier), unknown_fields=unknown,
        note=f"{user}: {said}" if user and said else (user or said),
    ), errors


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
