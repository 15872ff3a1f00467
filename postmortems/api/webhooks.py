"""The issue trackers' webhook: ``POST /api/v1/trackers/{id}/webhook/``.

A plain Django view, like chat's and alerts' ingest views: the caller is GitHub, GitLab or Jira, proven by
the tracker's secret (``trackers.Client.verify``: an HMAC of the raw body, or GitLab's token), not a logged-in
person; no CSRF. Answers: unknown tracker 404; missing or wrong secret 401, nothing changed; a body over
1 MiB 413; not a JSON object 400; otherwise 200 with what happened to the item (``completed``, ``reopened``,
``unchanged``), or 202 ``ignored`` with why (another event, an issue Vigil did not send, a turned-off
tracker) — never an error for those, since trackers retry errors and turn off failing webhooks.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import IssueTracker
from ..services.trackers import sync_from_tracker
from ..trackers import Ignored, Unverified, client_for, read_json

MAX_BODY_BYTES = 1024 * 1024


def _answer(status: int, detail: str, code: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code, **extra}, status=status)


@csrf_exempt
@require_POST
def tracker_webhook(request, pk):
    tracker = IssueTracker.objects.filter(pk=pk).first()
    if tracker is None:
        return _answer(404, f"No issue tracker {pk}; copy the webhook URL from the tracker's page in Vigil.",
                       "not_found")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, "Content-Length is not a number.", "bad_request")
    body = request.read(MAX_BODY_BYTES + 1) if length <= MAX_BODY_BYTES else b""
    if length > MAX_BODY_BYTES or len(body) > MAX_BODY_BYTES:
        return _answer(413, f"The body is over {MAX_BODY_BYTES // 1024} KiB.", "too_large")
    client = client_for(tracker)
    try:
        client.verify(request.headers, body)
    except Unverified as exc:
        return _answer(401, str(exc), "bad_signature")
    if request.headers.get("X-GitHub-Event") == "ping":
        return _answer(200, "Vigil is listening: closing an issue sent from Vigil completes its action item.",
                       "pong")
    try:
        payload = read_json(body)
    except (ValueError, RecursionError):
        return _answer(400, "The body is not a JSON object: set the webhook's content type to application/json.",
                       "invalid")
    if not tracker.active:
        return _answer(202, f"Tracker {tracker.name!r} is turned off in Vigil; nothing changed.", "ignored")
    try:
        event = client.event(request.headers, payload)
    except Ignored as exc:
        return _answer(202, f"{exc} Nothing changed.", "ignored")
    outcome = sync_from_tracker(tracker=tracker, key=event.key, change=event.change)
    if outcome == "unknown":
        return _answer(202, f"No action item was sent as {client.display_key(event.key)}; nothing changed.",
                       "ignored")
    words = {"completed": "The action item is done.", "reopened": "The action item is open again.",
             "unchanged": "The action item was so already."}
    return _answer(200, words[outcome], outcome, issue=event.key)
