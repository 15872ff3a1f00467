"""One-click acknowledge from a page: ``/paging/ack/<token>/``.

Every page carries a signed, expiring link naming its notification
(``paging.links``). Following it (GET) only shows the incident and an
"Acknowledge as <name>" button: mail scanners fetch links to check them, and
a GET that acknowledged would stop the escalation before anyone read the
page. The button is a POST form, which ``static/js/ack.js`` submits as soon
as a person's browser shows it, so for a person it is still one click. The
POST acknowledges as the person the page was sent to; the signed token is
the credential, so the form needs no CSRF token (and a person need not be
logged in).
"""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from incidents.models import IncidentStatus
from incidents.services import IllegalTransition, acknowledge_incident

from ..links import read_ack_token
from ..models import Notification

NOTE = "From the one-click link in a page"


def _notification(token: str) -> Notification | None:
    """The page a token names, if the token is genuine, unexpired, and the page is about an incident."""
    try:
        pk = read_ack_token(token)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    return (Notification.objects.select_related("incident__severity", "incident__team", "user")
            .filter(pk=pk, incident__isnull=False).first())


def _invalid(request, reason: str):
    return render(request, "paging/ack.html", {"invalid": reason}, status=400)


@csrf_exempt  # the signed token in the URL is the credential; see the module docstring
@require_http_methods(["GET", "HEAD", "POST"])
def ack(request, token):
    notification = _notification(token)
    if notification is None:
        return _invalid(request, "This acknowledge link is invalid or has expired.")
    person, incident = notification.user, notification.incident
    if not person.is_active:
        return _invalid(request, f"This link was sent to {person.display_name}, whose account is deactivated.")
    context = {"notification": notification, "incident": incident, "person": person, "token": token}
    if request.method != "POST":
        context["can_ack"] = incident.status == IncidentStatus.TRIGGERED
        return render(request, "paging/ack.html", context)
    try:
        incident = acknowledge_incident(incident=incident, by=person, note=NOTE)
    except IllegalTransition as exc:
        outcome = f"{incident.number} is already {exc.status}: nothing to acknowledge."
        acknowledged = False
    except PermissionDenied:
        # Paged people respond to the incident; one taken off it since may no longer act on it.
        return render(request, "paging/ack.html", {**context, "refused": True}, status=403)
    else:
        outcome = f"Acknowledged {incident.number} as {person.display_name}. The escalation stops."
        acknowledged = True
    detail = reverse("incident-detail", args=[incident.number])
    if request.user.is_authenticated and request.user.pk == person.pk:
        (messages.success if acknowledged else messages.info)(request, outcome)
        return redirect(detail)
    return render(request, "paging/ack.html", {
        **context, "incident": incident, "done": True, "acknowledged": acknowledged, "outcome": outcome,
        "login_url": f"{reverse('login')}?{urlencode({'next': detail})}",
    })


urlpatterns = [
    path("paging/ack/<str:token>/", ack, name="paging-ack"),
]
