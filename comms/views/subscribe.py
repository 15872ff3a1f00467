"""Status page e-mail subscriptions: subscribe (form or JSON), confirm, unsubscribe. No login.

CSRF: none of these views asks for a token, on purpose.
- Subscribe: the form sits on the public status page, which is served to anonymous readers with
  ``Cache-Control: public`` (and so from proxies and CDNs). A CSRF token in it would be one
  reader's token served to everyone (or a ``Vary: Cookie`` that defeats the cache). A forged
  post can only do what anyone can do by typing an address into the form: make Vigil send one
  confirmation mail, rate limited per address. Nothing is subscribed until the owner of the
  address confirms (double opt-in), and the answer never says whether the address was known.
- Confirm and unsubscribe: the signed token in the URL is the credential (as paging's one-click
  acknowledge), and RFC 8058 mail clients POST the unsubscribe link with no cookie or token.
A GET never changes anything: mail scanners prefetch links, so the change is the page's button.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.text import check_json_bytes, loads
from oncall.models import Team

from .. import subscribers
from ..subscribers import InvalidLink

CHECK_INBOX = ("Check your inbox: if the address can receive updates, a link to confirm the subscription is on "
               "its way. Nothing is sent until you confirm.")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _team(slug):
    if slug is None:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise Http404("No such status page.")
    return team


def _private(response):
    # Pages behind a token, and the answers to a subscription: never kept by a shared cache.
    add_never_cache_headers(response)
    return response


def _json_error(detail: str, code: str, status: int, **fields):
    return _private(JsonResponse({"detail": detail, "code": code, **fields}, status=status))


def _json_email(request):
    """The ``email`` of a JSON body, or the error response that says what is wrong with the body."""
    try:
        data = loads(request.body)
    except (ValueError, RecursionError):  # UnicodeDecodeError included
        return None, _json_error('The body is not valid JSON; send {"email": "name@example.com"}.', "parse_error", 400)
    problem = check_json_bytes(request.body, data)
    if problem is not None:
        return None, _json_error(problem, "parse_error", 400)
    if not isinstance(data, dict) or "email" not in data:
        return None, _json_error('Send a JSON object with the address: {"email": "name@example.com"}.',
                                 "invalid", 400, email=["This field is required."])
    return data["email"], None


def _page_context(team):
    return {"team": team, "page_name": subscribers.page_name(team),
            "status_url": f"/status/{team.slug}/" if team else "/status/",
            "link_days": subscribers.CONFIRM_LINK_MAX_AGE.days}


@csrf_exempt  # see the module docstring
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request, team_slug=None):
    """``POST /status/subscribe/`` (or ``/status/<team>/subscribe/``): ``{"email"}`` as JSON or a form field.

    JSON: 202 ``{"detail"}`` whatever became of the address (it can't be probed), 400 for a bad
    address or body, 415 for another content type. A form: the same as a page. GET: the form alone.
    """
    wants_json = request.method == "POST" and request.content_type not in _FORMS
    try:
        team = _team(team_slug)
    except Http404:
        if wants_json:
            return _json_error(f"No status page {team_slug!r}.", "not_found", 404)
        raise
    context = _page_context(team)
    if request.method != "POST":
        return render(request, "comms/subscribe.html", context)
    if wants_json:
        if request.content_type != "application/json" and not request.content_type.endswith("+json"):
            sent = f"not {request.content_type}" if request.content_type else "the request had none"
            return _json_error(f'Send JSON with Content-Type: application/json ({sent}): {{"email": "name@example.com"}}.',
                               "unsupported_media_type", 415)
        email, refusal = _json_email(request)
        if refusal is not None:
            return refusal
    else:
        email = request.POST.get("email", "")
    try:
        subscribers.subscribe(email=email, team=team)
    except ValidationError as exc:
        message = " ".join(exc.message_dict.get("email", exc.messages) if hasattr(exc, "error_dict") else exc.messages)
        if wants_json:
            return _json_error(f"Invalid input: {message}", "invalid", 400, email=[message])
        return _private(render(request, "comms/subscribe.html",
                               {**context, "email": email, "error": message}, status=400))
    if wants_json:
        return _private(JsonResponse({"detail": CHECK_INBOX}, status=202))
    return _private(render(request, "comms/subscribe.html", {**context, "sent": True}))


def _invalid(request, exc: InvalidLink, what: str):
    return _private(render(request, "comms/subscription_link.html",
                           {"invalid": exc.message, "what": what, **_page_context(None)}, status=exc.status))


@csrf_exempt  # the signed token is the credential; see the module docstring
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET: the subscription and a "Confirm subscription" button. POST: confirms it."""
    try:
        if request.method == "POST":
            subscriber = subscribers.confirm(token)
            done = True
        else:
            subscriber = subscribers.subscriber_for_confirm(token)
            done = subscriber.confirmed_at is not None
    except InvalidLink as exc:
        return _invalid(request, exc, "confirm")
    return _private(render(request, "comms/subscription_link.html", {
        **_page_context(subscriber.team), "what": "confirm", "subscriber": subscriber, "token": token, "done": done,
        "unsubscribe_url": f"/status/unsubscribe/{subscribers.unsubscribe_token(subscriber)}/",
    }))


@csrf_exempt  # RFC 8058: mail clients POST this link with no cookie and no token; the signed token is the credential
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET: an "Unsubscribe" button. POST (the button, or a mail client's one-click): deletes the subscription."""
    try:
        if request.method == "POST":
            subscriber = subscribers.unsubscribe(token)
            done = True
        else:
            subscriber = subscribers.subscriber_for_unsubscribe(token)
            done = subscriber is None
    except InvalidLink as exc:
        return _invalid(request, exc, "unsubscribe")
    team = subscriber.team if subscriber is not None else None
    return _private(render(request, "comms/subscription_link.html", {
        **_page_context(team), "what": "unsubscribe", "subscriber": subscriber, "token": token, "done": done,
    }))

