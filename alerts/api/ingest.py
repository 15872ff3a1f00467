"""Ingest endpoints: PagerDuty Events v2, Alertmanager, Opsgenie Alert API, generic webhook, heartbeats.

Plain Django views, not DRF: the callers are monitoring systems with their
own integration keys (no user authentication, no CSRF, no content
negotiation), the error shapes are the foreign APIs' own, and this is the
hot path. Each request: size check (413) → JSON (400) → key (400/401/404)
→ disabled or wrong kind (403) → rate limit (429, ``ratelimit.admit``) →
validation (400) → one transaction (``services.ingest``), committed before
the 202. Nothing is stored unless everything is valid. Fields Vigil does not
know are accepted, kept on the alerts and counted per integration
(``vigil_ingest_unknown_fields_total``).
"""

import re
import time
import uuid
from contextlib import contextmanager

from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from core.text import check_json_bytes, loads

from .. import ratelimit
from ..metrics import count_event, count_unknown_fields
from ..models import IntegrationKind
from ..parsing import (
    parse_alertmanager,
    parse_events_v2,
    parse_opsgenie_action,
    parse_opsgenie_create,
    parse_webhook,
)
from ..queries import integration_for_key
from ..services.ingest import ingest_event, ingest_events, ping_heartbeat

MAX_BODY_BYTES = 512 * 1024


class Refused(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None, outcome: str = "invalid"):
        self.status, self.body, self.headers, self.outcome = status, body, headers or {}, outcome
        self.integration_id = None  # set once the key is known, to count the refusal against it


@contextmanager
def _counted_against(integration_id: int):
    """Refusals raised inside are counted against the integration ``integration_id`` (the key was known)."""
    try:
        yield
    except Refused as refused:
        refused.integration_id = integration_id
        raise


def _pd_error(status: int, message: str, errors: list, outcome: str = "invalid") -> Refused:
    return Refused(status, {"status": "invalid event", "message": message, "errors": list(errors)}, outcome=outcome)


def _api_error(status: int, detail: str, code: str, outcome: str = "invalid", **extra) -> Refused:
    return Refused(status, {"detail": detail, "code": code, **extra}, outcome=outcome)


def _read_json(request, error, *, empty=None):
    """The body as JSON, refusing more than 512 KiB without reading it all; ``empty`` if there is none and
    it is not None."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise error(400, "Content-Length is not a number.", "bad_request") from None
    too_large = f"The body is over {MAX_BODY_BYTES // 1024} KiB; send fewer or smaller alerts per request."
    if length > MAX_BODY_BYTES:
        raise error(413, too_large, "too_large", outcome="too_large")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise error(413, too_large, "too_large", outcome="too_large")
    if empty is not None and not body.strip():
        return empty
    try:
        data = loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(400, f"The body is not valid JSON: {exc}.", "malformed_json") from None
    except RecursionError:
        raise error(400, "The body is nested too deeply to read; flatten it.", "malformed_json") from None
    problem = check_json_bytes(body, data)
    if problem is not None:
        raise error(400, problem, "invalid")
    return data


def _pd_shape(status, message, code, outcome="invalid", **extra):
    return _pd_error(status, message, [message], outcome)


def _admit(integration, kind, now, error, error_429):
    """Refuse a disabled or wrong-kind integration (403: its limit counts nothing), then one over its limit (429)."""
    _check_kind(integration, kind, error)
    retry = ratelimit.admit(integration, now)
    if retry is not None:
        refused = error_429(retry)
        refused.headers["Retry-After"] = str(retry)
        refused.outcome = "rate_limited"
        raise refused


def _respond(kind: str, handler):
    """Run a handler, turning Refused into its response, and count the outcome."""

    @csrf_exempt
    def view(request, *args, **kwargs):
        try:
            integration_id, status, body, outcomes = handler(request, *args, **kwargs)
            for outcome in outcomes:
                count_event(integration_id, kind, outcome)
            response = JsonResponse(body, status=status)
        except Refused as refused:
            count_event(refused.integration_id, kind, refused.outcome)
            response = JsonResponse(refused.body, status=refused.status)
            for name, value in refused.headers.items():
                response[name] = value
        return response

    return view


def _only(request, methods):
    if request.method not in methods:
        raise Refused(405, {"detail": f"Use {' or '.join(methods)}.", "code": "method_not_allowed"},
                      {"Allow": ", ".join(methods)}, outcome="invalid")


def _check_kind(integration, kind, error):
    if not integration.enabled:
        raise error(403, f"The integration “{integration.name}” is disabled; enable it on its service page.",
                    "integration_disabled", outcome="disabled")
    if integration.kind != kind:
        raise error(403, f"This key belongs to a {integration.kind} integration; post to its own endpoint.",
                    "wrong_endpoint", outcome="invalid")


def _pd_429(retry):
    return Refused(429, {"status": "throttle event",
                         "message": f"Too many events for this integration; retry in {retry} s."})


def _api_429(retry):
    return _api_error(429, f"Too many events for this integration; retry in {retry} s.", "rate_limited")


def _events_v2(request):
    _only(request, ["POST"])
    data = _read_json(request, _pd_shape)
    routing_key, event, errors = parse_events_v2(data)
    if not routing_key:
        raise _pd_error(400, "Event object is invalid", errors or ["'routing_key' is missing."])
    now = timezone.now()
    integration = integration_for_key(routing_key)
    if integration is None:
        raise _pd_error(400, "Event object is invalid", ["Invalid routing key"], outcome="unknown_key")
    with _counted_against(integration.pk):
        _admit(integration, IntegrationKind.EVENTS_V2, now, _pd_shape, _pd_429)
        if errors:
            raise _pd_error(400, "Event object is invalid", errors)
        outcome = ingest_event(integration=integration, event=event, now=now)
    count_unknown_fields(integration.pk, IntegrationKind.EVENTS_V2, errors.unknown)
    return integration.pk, 202, _pd_success(outcome), [outcome.result]


def _pd_success(outcome) -> dict:
    return {"status": "success", "message": "Event processed", "dedup_key": outcome.dedup_key}


def _bearer(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _alertmanager(request):
    _only(request, ["POST"])
    now = timezone.now()
    integration = integration_for_key(_bearer(request))
    if integration is None:
        raise Refused(401, {"detail": "Send the integration key as Authorization: Bearer <key>.",
                            "code": "not_authenticated"}, {"WWW-Authenticate": 'Bearer realm="vigil"'},
                      outcome="unknown_key")
    with _counted_against(integration.pk):
        _admit(integration, IntegrationKind.ALERTMANAGER, now, _api_error, _api_429)
        data = _read_json(request, _api_error)
        events, errors = parse_alertmanager(data)
        if errors:
            raise _api_error(400, f"Invalid input: {errors[0]}", "invalid", errors=errors)
        outcomes = ingest_events(integration=integration, events=events, now=now)
    count_unknown_fields(integration.pk, IntegrationKind.ALERTMANAGER, errors.unknown)
    incidents = sorted({o.incident.number for o in outcomes if o.incident is not None})
    body = {"status": "success", "message": "Alerts processed", "alerts": len(outcomes), "incidents": incidents}
    return integration.pk, 202, body, [o.result for o in outcomes]


def _by_path_key(request, key, kind, now):
    """The integration of the key in the path or, without one, in ``Authorization: Bearer <key>``.

    The header keeps the key out of URLs, which proxies and browsers log.
    """
    if key is None:
        key = _bearer(request)
        if not key:
            raise Refused(401, {"detail": "Send the integration key as Authorization: Bearer <key>, or in the URL "
                                          "shown on the integration's page.", "code": "not_authenticated"},
                          {"WWW-Authenticate": 'Bearer realm="vigil"'}, outcome="unknown_key")
    integration = integration_for_key(key)
    if integration is None:
        raise _api_error(404, "No integration has this key; check the URL on the integration's page.",
                         "not_found", outcome="unknown_key")
    with _counted_against(integration.pk):
        _admit(integration, kind, now, _api_error, _api_429)
    return integration


def _webhook(request, key=None):
    _only(request, ["POST"])
    now = timezone.now()
    integration = _by_path_key(request, key, IntegrationKind.WEBHOOK, now)
    with _counted_against(integration.pk):
        event, errors = parse_webhook(_read_json(request, _api_error))
        if errors:
            raise _api_error(400, f"Invalid input: {errors[0]}", "invalid", errors=errors)
        outcome = ingest_event(integration=integration, event=event, now=now)
    count_unknown_fields(integration.pk, IntegrationKind.WEBHOOK, errors.unknown)
    return integration.pk, 202, _webhook_success(outcome), [outcome.result]


def _webhook_success(outcome) -> dict:
    return {"status": "success", "message": "Event processed", "dedup_key": outcome.dedup_key,
            "incident": outcome.incident.number if outcome.incident else None}


def _og_error(status: int, message: str, code: str = "", outcome: str = "invalid", **extra) -> Refused:
    """An error as Opsgenie shapes it: ``{"message", …}``; ``_opsgenie`` adds ``took`` and ``requestId``."""
    return Refused(status, {"message": message, **extra}, outcome=outcome)


def _og_429(retry):
    return _og_error(429, f"Too many requests for this integration; retry in {retry} s.")


def _og_invalid(errors) -> Refused:
    """422 as Opsgenie answers it: the first problem in ``message``, every one under its field in ``errors``."""
    by_field: dict[str, str] = {}
    for error in errors:
        field = re.match(r"'([^']+)'", error)
        by_field.setdefault(field.group(1) if field else "body", error)
    return _og_error(422, f"Request body is not processable: {errors[0]}", errors=by_field)


def _genie_key(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "geniekey" else ""


def _opsgenie(action: str):
    """Opsgenie's Create (``trigger``), Close (``resolve``) or Acknowledge Alert, answered as Opsgenie does:
    202 ``{"result": "Request will be processed", "took", "requestId"}``; every error carries ``took`` and
    ``requestId`` too. Unlike Opsgenie's, the 202 comes after the commit, and a close or acknowledge of an
    alias with no open incident is accepted and does nothing (Opsgenie would fail it later, in its logs)."""

    def handler(request, identifier=None):
        started, request_id = time.monotonic(), str(uuid.uuid4())
        try:
            integration_id, outcome = _opsgenie_event(request, action, identifier, request_id)
        except Refused as refused:
            refused.body.update(took=_took(started), requestId=request_id)
            raise
        body = {"result": "Request will be processed", "took": _took(started), "requestId": request_id}
        return integration_id, 202, body, [outcome.result]

    return handler


def _took(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _opsgenie_event(request, action, identifier, request_id):
    _only(request, ["POST"])
    now = timezone.now()
    integration = integration_for_key(_genie_key(request))
    if integration is None:
        raise Refused(401, {"message": "Could not authenticate: send the opsgenie integration's key as "
                                       "Authorization: GenieKey <key>."},
                      {"WWW-Authenticate": 'GenieKey realm="vigil"'}, outcome="unknown_key")
    with _counted_against(integration.pk):
        _admit(integration, IntegrationKind.OPSGENIE, now, _og_error, _og_429)
        if action == "trigger":
            event, errors = parse_opsgenie_create(_read_json(request, _og_error), request_id)
        else:
            event, errors = parse_opsgenie_action(
                _read_json(request, _og_error, empty={}), action=action, identifier=identifier,
                identifier_type=request.GET.get("identifierType"),
            )
        if errors:
            raise _og_invalid(errors)
        outcome = ingest_event(integration=integration, event=event, now=now)
    count_unknown_fields(integration.pk, IntegrationKind.OPSGENIE, errors.unknown)
    return integration.pk, outcome


def _heartbeat(request, key=None):
    _only(request, ["GET", "POST", "HEAD"])
    now = timezone.now()
    integration = _by_path_key(request, key, IntegrationKind.HEARTBEAT, now)
    with _counted_against(integration.pk):
        outcome = ping_heartbeat(integration=integration, now=now)
    return integration.pk, 200, {"status": "ok", "resolved": outcome.result == "resolved"}, ["ping"]


events_v2_view = _respond("events_v2", _events_v2)
alertmanager_view = _respond("alertmanager", _alertmanager)
webhook_view = _respond("webhook", _webhook)
heartbeat_view = _respond("heartbeat", _heartbeat)
opsgenie_create_view = _respond("opsgenie", _opsgenie("trigger"))
opsgenie_close_view = _respond("opsgenie", _opsgenie("resolve"))
opsgenie_acknowledge_view = _respond("opsgenie", _opsgenie("acknowledge"))


urlpatterns = [
    path("events/", events_v2_view, name="ingest-events-v2"),
    path("integrations/alertmanager/", alertmanager_view, name="ingest-alertmanager"),
    path("integrations/webhook/<str:key>/", webhook_view, name="ingest-webhook"),
    path("heartbeats/<str:key>/", heartbeat_view, name="ingest-heartbeat"),
    # The same, with the key in Authorization: Bearer <key> instead of the path.
    path("integrations/webhook/", webhook_view, name="ingest-webhook-bearer"),
    path("heartbeats/", heartbeat_view, name="ingest-heartbeat-bearer"),
]
