"""Slack's slash-command endpoint. A plain Django view, like alerts' ingest views: the caller is Slack,
proven by the request signature (``slack.verify``), not a logged-in person; no CSRF; Slack's own shapes.

Refusals: no SLACK_SIGNING_SECRET → 503; a missing, wrong or stale signature → 401; anything else a
verified request sends is answered 200 with a reply for the person (a help text for bad commands).
``action`` takes the clicks on the Acknowledge / Resolve buttons of the messages Vigil posts, verified the same way.
"""

import json
import logging

from django.conf import settings
from django.http import JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.links import site_url

from . import commands
from .slack import Unverified, verify

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _verified_form(request) -> tuple[QueryDict | None, JsonResponse | None]:
    """The form Slack sent, or the refusal: not configured (503), too large (413), not signed by Slack (401)."""
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        return None, _error(503, "Slack commands are not set up: set SLACK_SIGNING_SECRET to the Slack app's "
                           "Signing Secret and restart Vigil.", "not_configured")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, _error(400, "Content-Length is not a number.", "bad_request")
    body = request.read(MAX_BODY_BYTES + 1) if length <= MAX_BODY_BYTES else b""
    if length > MAX_BODY_BYTES or len(body) > MAX_BODY_BYTES:
        return None, _error(413, f"The body is over {MAX_BODY_BYTES // 1024} KiB.", "too_large")
    try:
        verify(secret=secret, timestamp=request.headers.get("X-Slack-Request-Timestamp"),
               given=request.headers.get("X-Slack-Signature"), body=body)
    except Unverified as unverified:
        return None, _error(401, str(unverified), "bad_signature")
    try:
        return QueryDict(body, encoding="utf-8"), None
    except Exception:  # noqa: BLE001 - too many fields or undecodable: still a verified request, answered
        return QueryDict(), None


def _failed(what: str) -> commands.Reply:
    # A bug of ours: Slack would show the person "dispatch_failed"; say so and log it.
    logger.exception("Slack %s failed", what)
    return commands.Reply("Sorry, Vigil failed to run that; the error is logged for its administrators.")


@csrf_exempt
@require_POST
def slash_command(request):
    form, refusal = _verified_form(request)
    if refusal is not None:
        return refusal
    site = site_url(request)
    user = commands.linked_user(form.get("user_id", ""))
    if user is None:
        return JsonResponse(commands.not_linked(site=site).as_json())
    try:
        reply = commands.run(text=form.get("text", ""), user=user, site=site, command=form.get("command", ""))
    except Exception:  # noqa: BLE001
        reply = _failed(f"command {form.get('text', '')[:200]!r}")
    return JsonResponse(reply.as_json())


@csrf_exempt
@require_POST
def action(request):
    """A button click (Slack's ``block_actions`` payload, the JSON in the form's ``payload``): the reply is
    posted as a new message (``replace_original: false``), so the buttons stay for the next step."""
    form, refusal = _verified_form(request)
    if refusal is not None:
        return refusal
    try:
        payload = json.loads(form.get("payload", ""))
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return JsonResponse({"detail": "Send Slack's block_actions payload in the form field payload.",
                             "code": "invalid"}, status=400)
    site = site_url(request)
    who = payload.get("user")
    user = commands.linked_user(who.get("id", "") if isinstance(who, dict) and isinstance(who.get("id"), str) else "")
    if user is None:
        reply = commands.not_linked(site=site)
    else:
        actions = payload.get("actions")
        clicked = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        try:
            reply = commands.button(action_id=str(clicked.get("action_id", "")), value=clicked.get("value"),
                                    user=user, site=site)
        except Exception:  # noqa: BLE001
            reply = _failed(f"button {clicked.get('action_id')!r}")
    return JsonResponse({**reply.as_json(), "replace_original": False})
