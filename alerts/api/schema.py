"""The ingest endpoints in the OpenAPI schema (a drf-spectacular postprocessing hook).

They are plain Django views, not DRF (see ``ingest``), so drf-spectacular
cannot see them; this hook adds them, with the foreign formats' own request
and error shapes, so ``/api/schema/`` and ``/api/docs/`` list every endpoint
of API.md. The enums come from the same constants the validators use.
Every body accepts fields it does not list (``additionalProperties``): they
are kept on the alert as ``unknown_fields``, never a reason to refuse it.
"""

from core.instants import PATTERN as INSTANT_PATTERN
from core.text import NON_BLANK_PATTERN

from ..models import PAYLOAD_SEVERITIES
from ..parsing import EVENT_ACTIONS, OPSGENIE_PRIORITIES

TAG = "alert ingestion"


def _nullable(schema: dict) -> dict:
    # OpenAPI 3.0: an enum lists null too for null to be valid.
    return {**schema, "nullable": True, **({"enum": [*schema["enum"], None]} if "enum" in schema else {})}


def _object(properties: dict, required=()) -> dict:
    # The parsers read a null as the field left out (``data.get(key) is None``): optional ones are nullable.
    properties = {name: _nullable(schema) if name not in required and "type" in schema else schema
                  for name, schema in properties.items()}
    schema = {"type": "object", "properties": properties, "additionalProperties": True}
    if required:
        schema["required"] = list(required)
    return schema


_STRING = {"type": "string"}
# Kept as sent (only http(s) ones become links on pages), so any text up to 2000 characters.
_URL = {"type": "string", "maxLength": 2000, "description": "A URL; only http(s) ones become links."}
# Read by datetime.fromisoformat; in the years core.instants accepts, or 0001 (Alertmanager's "not set").
_TIME = {"type": "string", "format": "date-time", "pattern": rf"^(?:0001-|{INSTANT_PATTERN.lstrip('^')})"}
_SEVERITY = {"type": "string", "enum": PAYLOAD_SEVERITIES}
_AS_SENT = {"description": "Kept as sent."}
_STATUS = {"type": "string", "enum": ["firing", "resolved"]}
_LABELS = {"type": "object", "additionalProperties": _STRING}


def _text(max_length: int = 255, *, required=False, **extra) -> dict:
    """A string as ``parsing.Errors.string`` reads it: a required one must hold more than white space."""
    schema = {"type": "string", "maxLength": max_length, **extra}
    return {**schema, "minLength": 1, "pattern": NON_BLANK_PATTERN} if required else schema


# A trigger needs a payload with a summary, source and severity; an acknowledge or resolve, a dedup key.
_V2_PAYLOAD = {
    "summary": _text(1024), "source": _text(), "severity": _SEVERITY, "timestamp": _TIME,
    "component": _text(), "group": _text(), "class": _text(),
    "custom_details": {"description": "An object; anything else is kept as {\"details\": value}."},
}
EVENTS_V2 = {**_object({
    "routing_key": _text(128, required=True, description="The events_v2 integration's key."),
    "event_action": {"type": "string", "enum": EVENT_ACTIONS},
    "dedup_key": _text(description="Generated and returned when a trigger has none; required to acknowledge "
                                   "or resolve."),
    "payload": _object(_V2_PAYLOAD),
    # Each link keeps whatever else it carries; only its href (an image's src) is read.
    "links": {"type": "array", "items": _object({"href": _text(2000, required=True), "text": _AS_SENT},
                                                  required=["href"])},
    "images": {"type": "array", "items": _object({"src": _text(2000, required=True), "href": _AS_SENT,
                                                   "alt": _AS_SENT}, required=["src"])},
    "client": _text(), "client_url": _URL,
}, required=["routing_key", "event_action"]), "anyOf": [
    {"properties": {"event_action": {"enum": ["trigger"]},
                    "payload": {"type": "object", "required": ["summary", "source", "severity"], "properties": {
                        "summary": _text(1024, required=True), "source": _text(required=True),
                        "severity": _SEVERITY}}},
     "required": ["payload"]},
    {"properties": {"event_action": {"enum": ["acknowledge", "resolve"]},
                    "dedup_key": {"type": "string", "minLength": 1}},
     "required": ["dedup_key"]},
]}

ALERTMANAGER = _object({
    "version": {"type": "string", "enum": ["4", "1"], "description": "4: Alertmanager; 1: Grafana's contact point."},
    "groupKey": _text(10_000, required=True),
    "truncatedAlerts": {"description": "Alertmanager's count of alerts left out (read as sent)."},
    "status": _STATUS, "receiver": _text(2000), "groupLabels": _LABELS, "commonLabels": _LABELS,
    "commonAnnotations": _LABELS, "externalURL": _URL,
    "alerts": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _object({
        "status": _STATUS, "labels": _nullable(_LABELS), "annotations": _LABELS,  # present, even null, will do
        "startsAt": _TIME, "endsAt": _TIME, "generatorURL": _URL, "fingerprint": _text(required=True),
    }, required=["status", "labels", "fingerprint"])},
}, required=["version", "groupKey", "status", "alerts"])

# Firing (the default) needs a title; resolved, the dedup key of what it resolves.
WEBHOOK = {**_object({
    "title": _text(1024, description="Required when status is firing (the default)."),
    "severity": _SEVERITY, "dedup_key": _text(),
    "status": _STATUS,
    "details": {"type": "object", "additionalProperties": True},
}), "anyOf": [
    {"properties": {"status": {"enum": ["firing", None], "nullable": True}, "title": _text(1024, required=True)},
     "required": ["title"]},
    {"properties": {"status": {"enum": ["resolved"]}, "dedup_key": {"type": "string", "minLength": 1}},
     "required": ["status", "dedup_key"]},
]}

# Opsgenie's Create Alert; responders, visibleTo and actions are accepted as sent and not acted on.
OPSGENIE_CREATE = _object({
    "message": _text(130, required=True, description="The alert's title (the incident's, if it opens one)."),
    "alias": _text(512, description="The dedup key; without one every create is a new alert."),
    "description": _text(15_000),
    "priority": {"type": "string", "enum": [*OPSGENIE_PRIORITIES, ""],
                 "description": "P1→SEV1, P2→SEV2, P3 (the default)→SEV3, P4 and P5→SEV4, through the "
                                "integration's severity map (P1 critical, P2 error, P3 warning, P4/P5 info); empty is P3."},
    "tags": {"type": "array", "items": _STRING},
    "details": {"type": "object", "additionalProperties": True},
    "entity": _text(512), "source": _text(255), "user": _text(100), "note": _text(25_000),
    "responders": _AS_SENT, "visibleTo": _AS_SENT, "actions": _AS_SENT,
}, required=["message"])
OPSGENIE_ACTION = _object({"user": _text(100), "source": _text(100), "note": _text(25_000)})

_API_ERROR = _object({"detail": _STRING, "code": _STRING}, ["detail", "code"])
_PD_ERROR = _object({"status": {**_STRING, "example": "invalid event"}, "message": _STRING,
                     "errors": {"type": "array", "items": _STRING}}, ["status", "message"])


_OG_ERROR = _object({"message": _STRING, "took": {"type": "number"}, "requestId": _STRING,
                     "errors": {"type": "object", "additionalProperties": _STRING,
                                "description": "422: each problem under the field it is about."}},
                    ["message", "took", "requestId"])


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(shape: dict, *codes: str) -> dict:
    words = {"400": "Invalid: each error names the field and what to send.", "401": "No or unknown key.",
             "422": "Opsgenie's 400: each error names the field and what to send.",
             "403": "The integration is disabled, or the key is of another kind.", "404": "No integration has this key.",
             "413": "The body is over 512 KiB.", "429": "Too many events; see Retry-After."}
    return {code: _json(shape, words[code]) for code in codes}


def _operation(summary: str, description: str, body: dict | None, ok: tuple, errors: dict, **extra) -> dict:
    operation = {"tags": [TAG], "summary": summary, "description": description, "security": [],
                 "responses": {ok[0]: _json(ok[1], "Stored: committed before the answer."), **errors}, **extra}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


_KEY_IN_PATH = [{"name": "key", "in": "path", "required": True, "schema": _STRING,
                 "description": "The integration's key."}]
_EVENTS_V2_OPERATION = _operation(
    "PagerDuty Events API v2", "Compatible with PagerDuty's: any Events v2 client pointed at Vigil works unchanged.",
    EVENTS_V2, ("202", _object({"status": _STRING, "message": _STRING, "dedup_key": _STRING})),
    _errors(_PD_ERROR, "400", "403", "413", "429"),
)

_OG_ACCEPTED = ("202", _object({"result": {**_STRING, "example": "Request will be processed"},
                                 "took": {"type": "number"}, "requestId": {**_STRING, "format": "uuid"}},
                                ["result", "took", "requestId"]))
_OG_IDENTIFIER = [
    {"name": "identifier", "in": "path", "required": True, "schema": _STRING,
     "description": "The alert's alias, or (identifierType=id) the requestId answered to a create without one."},
    {"name": "identifierType", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["alias", "id"], "default": "id"},
     "description": "alias, or id (Opsgenie's default: a requestId Vigil answered). Opsgenie's tiny ids are "
                    "refused (422): Vigil has none."},
]


def _opsgenie_operation(summary: str, description: str, body: dict, operation_id: str, **extra) -> dict:
    operation = _operation(summary, "Opsgenie Alert API compatible, header Authorization: GenieKey <opsgenie "
                           f"integration key>. {description}", body, _OG_ACCEPTED,
                           _errors(_OG_ERROR, "400", "401", "403", "413", "422", "429"),
                           operationId=operation_id, security=[{"genieKey": []}], **extra)
    operation["requestBody"]["required"] = operation_id == "opsgenie_create"
    return operation


PATHS = {
    "/v2/enqueue": {"post": {**_EVENTS_V2_OPERATION, "operationId": "events_v2_enqueue"}},
    "/api/v1/events/": {"post": {**_EVENTS_V2_OPERATION, "operationId": "events_v2"}},
    "/api/v1/integrations/alertmanager/": {"post": _operation(
        "Alertmanager webhook (version 4), or Grafana's webhook contact point",
        "Authorization: Bearer <alertmanager integration key>. One alert per fingerprint; a group opens or joins one "
        "incident.", ALERTMANAGER,
        ("202", _object({"status": _STRING, "message": _STRING, "alerts": {"type": "integer"},
                         "incidents": {"type": "array", "items": _STRING}})),
        _errors(_API_ERROR, "400", "401", "403", "413", "429"),
        operationId="ingest_alertmanager", security=[{"integrationKey": []}],
    )},
    "/api/v1/integrations/webhook/{key}/": {"post": _operation(
        "Generic JSON webhook", "For anything else that can post JSON.", WEBHOOK,
        ("202", _object({"status": _STRING, "message": _STRING, "dedup_key": _STRING,
                         "incident": {**_STRING, "nullable": True}})),
        _errors(_API_ERROR, "400", "403", "404", "413", "429"),
        operationId="ingest_webhook", parameters=_KEY_IN_PATH,
    )},
    "/v2/alerts": {"post": _opsgenie_operation(
        "Opsgenie: create alert", "The alias is the dedup key: an open incident with it is joined (its alert "
        "refreshed), else one opens.", OPSGENIE_CREATE, "opsgenie_create")},
    "/v2/alerts/{identifier}/close": {"post": _opsgenie_operation(
        "Opsgenie: close alert", "Resolves the alias's open incident; accepted, doing nothing, when there is none.",
        OPSGENIE_ACTION, "opsgenie_close", parameters=_OG_IDENTIFIER)},
    "/v2/alerts/{identifier}/acknowledge": {"post": _opsgenie_operation(
        "Opsgenie: acknowledge alert", "Acknowledges the alias's open incident if it is triggered.",
        OPSGENIE_ACTION, "opsgenie_acknowledge", parameters=_OG_IDENTIFIER)},
    "/api/v1/heartbeats/{key}/": {method: _operation(
        "Heartbeat ping", "A heartbeat missing past its interval plus grace opens an incident; the next ping "
        "resolves it.", None, ("200", _object({"status": _STRING, "resolved": {"type": "boolean"}})),
        _errors(_API_ERROR, "403", "404", "429"),
        operationId=f"heartbeat_ping_{method}", parameters=_KEY_IN_PATH,
    ) for method in ("get", "post")},
}


def add_ingest_paths(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: the ingest endpoints beside DRF's."""
    result.setdefault("paths", {}).update(PATHS)
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["integrationKey"] = {"type": "http", "scheme": "bearer",
                                 "description": "An alertmanager integration's key."}
    schemes["genieKey"] = {"type": "apiKey", "in": "header", "name": "Authorization",
                           "description": "GenieKey <an opsgenie integration's key>."}
    return result
