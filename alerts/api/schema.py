"""The ingest endpoints in the OpenAPI schema (a drf-spectacular postprocessing hook).

They are plain Django views, not DRF (see ``ingest``), so drf-spectacular
cannot see them; this hook adds them, with the foreign formats' own request
and error shapes, so ``/api/schema/`` and ``/api/docs/`` list every endpoint
of API.md. The enums come from the same constants the validators use.
Every body accepts fields it does not list (``additionalProperties``): they
are kept on the alert as ``unknown_fields``, never a reason to refuse it.
"""

from ..models import PAYLOAD_SEVERITIES
from ..parsing import EVENT_ACTIONS

TAG = "alert ingestion"


def _object(properties: dict, required=()) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": True}
    if required:
        schema["required"] = list(required)
    return schema


_STRING, _URL = {"type": "string"}, {"type": "string", "format": "uri"}
_TIME = {"type": "string", "format": "date-time"}
_SEVERITY = {"type": "string", "enum": PAYLOAD_SEVERITIES}

EVENTS_V2 = _object({
    "routing_key": {**_STRING, "description": "The events_v2 integration's key."},
    "event_action": {"type": "string", "enum": EVENT_ACTIONS},
    "dedup_key": {**_STRING, "maxLength": 255,
                  "description": "Generated and returned when a trigger has none; required to acknowledge or resolve."},
    "payload": _object({
        "summary": {**_STRING, "maxLength": 1024}, "source": {**_STRING, "maxLength": 255}, "severity": _SEVERITY,
        "timestamp": _TIME, "component": _STRING, "group": _STRING, "class": _STRING,
        "custom_details": {"type": "object", "additionalProperties": True},
    }, required=["summary", "source", "severity"]),
    "links": {"type": "array", "items": _object({"href": _URL, "text": _STRING}, ["href"])},
    "images": {"type": "array", "items": _object({"src": _URL, "href": _URL, "alt": _STRING}, ["src"])},
    "client": _STRING, "client_url": _URL,
}, required=["routing_key", "event_action"])

ALERTMANAGER = _object({
    "version": {**_STRING, "example": "4"}, "groupKey": _STRING, "truncatedAlerts": {"type": "integer"},
    "status": {"type": "string", "enum": ["firing", "resolved"]}, "receiver": _STRING,
    "groupLabels": {"type": "object", "additionalProperties": _STRING},
    "commonLabels": {"type": "object", "additionalProperties": _STRING},
    "commonAnnotations": {"type": "object", "additionalProperties": _STRING},
    "externalURL": _URL,
    "alerts": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _object({
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "labels": {"type": "object", "additionalProperties": _STRING},
        "annotations": {"type": "object", "additionalProperties": _STRING},
        "startsAt": _TIME, "endsAt": _TIME, "generatorURL": _URL, "fingerprint": _STRING,
    }, required=["status", "labels", "fingerprint"])},
}, required=["alerts"])

WEBHOOK = _object({
    "title": {**_STRING, "maxLength": 1024, "description": "Required when status is firing (the default)."},
    "severity": _SEVERITY, "dedup_key": {**_STRING, "maxLength": 255},
    "status": {"type": "string", "enum": ["firing", "resolved"]},
    "details": {"type": "object", "additionalProperties": True},
})

_API_ERROR = _object({"detail": _STRING, "code": _STRING}, ["detail", "code"])
_PD_ERROR = _object({"status": {**_STRING, "example": "invalid event"}, "message": _STRING,
                     "errors": {"type": "array", "items": _STRING}}, ["status", "message"])


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(shape: dict, *codes: str) -> dict:
    words = {"400": "Invalid: each error names the field and what to send.", "401": "No or unknown key.",
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
    return result
