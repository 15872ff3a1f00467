"""Status page e-mail subscriptions: double opt-in, signed links, one-click unsubscribe (RFC 8058).

Anyone may ask for a page's updates (``subscribe``): the address gets a row,
unconfirmed, and a mail with a link to confirm. Nothing else reaches it until
that link's page is confirmed with a POST (``confirm``): mail scanners fetch
links, and a GET that confirmed would opt in whoever an attacker typed in.
The answer to a subscribe request never depends on whether the address is
already subscribed, so nobody can probe who is; an address already confirmed
gets no mail at all.

Links are ``django.core.signing`` tokens with their own salt each, so a
confirmation token can't unsubscribe and the other way round. Both name the
row and a digest of its address: a row deleted and created again (a new id)
or an address changed makes old links void. Confirmation links expire after
``CONFIRM_LINK_MAX_AGE``; unsubscribe links never do (RFC 8058 mail clients
keep them).

``tell_status_subscribers`` mails one public update to the confirmed
subscribers of the pages that show its incident: the organisation's page and
its team's, and the pages of teams whose components cover its services. The
mail holds only what the page shows: title, state, the update's own text,
component names and links; never notes, people, alerts or internal updates.
Each mail is a paging ``Notification`` (delivered, retried and recorded like
every message), written in the caller's transaction, its delivery queued on
commit.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from core.links import site_url
from core.text import UNSTORABLE
from incidents.models import StatusUpdate
from oncall.models import Team
from paging.models import Notification
from paging.services.notify import message_address, message_addresses

from .models import Component, StatusSubscriber
from .queries import public_incidents

log = logging.getLogger(__name__)

CONFIRM_SALT = "comms.status.confirm"
UNSUBSCRIBE_SALT = "comms.status.unsubscribe"
CONFIRM_LINK_MAX_AGE = timedelta(days=7)
# At most one confirmation mail per address and page in this long, and MAX_MAILS_PER_ADDRESS per address
# whatever the pages: a stranger can't flood someone's inbox through the public form.
MAIL_INTERVAL = timedelta(minutes=10)
MAX_MAILS_PER_ADDRESS = 3

BAD_EMAIL = "Enter a valid e-mail address, like name@example.com."


class InvalidLink(Exception):
    """A link that is forged, altered, expired or names a subscription that no longer exists."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


# --- Addresses and links ------------------------------------------------------------------------------

def normalise_email(raw) -> str:
    """The address as stored: trimmed and in lower case (so ``Bob@X`` and ``bob@x`` are one subscriber).

    Raises ``ValidationError({"email": …})`` for anything that is not one address.
    """
    if not isinstance(raw, str):
        raise ValidationError({"email": "Give the e-mail address as text."})
    email = raw.strip().lower()
    if not email:
        raise ValidationError({"email": "Enter an e-mail address."})
    if len(email) > StatusSubscriber._meta.get_field("email").max_length or UNSTORABLE.search(email):
        raise ValidationError({"email": BAD_EMAIL})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": BAD_EMAIL}) from None
    return email


def _digest(email: str) -> str:
    # Binds a link to the address without putting the address itself in the URL (and in server logs).
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def confirm_token(subscriber: StatusSubscriber, now: datetime) -> str:
    # The issue time is in the payload (not TimestampSigner's clock), so ``confirm(now=…)`` decides expiry.
    return signing.Signer(salt=CONFIRM_SALT).sign_object(
        [subscriber.pk, _digest(subscriber.email), int(now.timestamp())], compress=False)


def unsubscribe_token(subscriber: StatusSubscriber) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object([subscriber.pk, _digest(subscriber.email)],
                                                             compress=False)


def confirm_url(subscriber: StatusSubscriber, now: datetime) -> str:
    return f"{site_url()}/status/confirm/{confirm_token(subscriber, now)}/"


def unsubscribe_url(subscriber: StatusSubscriber) -> str:
    return f"{site_url()}/status/unsubscribe/{unsubscribe_token(subscriber)}/"


def page_name(team: Team | None) -> str:
    """As the status page's JSON names it."""
    return f"{team.name} status" if team else "Vigil status"


def page_url(team: Team | None) -> str:
    return f"{site_url()}/status/{team.slug}/" if team else f"{site_url()}/status/"


def _read(token: str, salt: str) -> list:
    try:
        value = signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeError):  # forged, cut short, or not our format at all
        raise InvalidLink("This link is not valid: it may have been cut short or changed. "
                          "Copy the whole link from the e-mail.") from None
    if not isinstance(value, list) or not value or not isinstance(value[0], int):
        raise InvalidLink("This link is not valid. Copy the whole link from the e-mail.")
    return value


def _subscriber(value: list, *, lock: bool) -> StatusSubscriber | None:
    """The row a token names, if it still exists with the address the token was made for."""
    rows = StatusSubscriber.objects.select_related("team").filter(pk=value[0])
    subscriber = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if subscriber is None or len(value) < 2 or value[1] != _digest(subscriber.email):
        return None
    return subscriber


def _confirmable(token: str, now: datetime, *, lock: bool) -> StatusSubscriber:
    """The subscription a confirmation link names, confirmed already or still confirmable by it."""
    value = _read(token, CONFIRM_SALT)
    subscriber = _subscriber(value, lock=lock)
    if subscriber is None:
        raise InvalidLink("This subscription no longer exists (it was cancelled). Subscribe again on the status "
                          "page.", status=404)
    if subscriber.confirmed_at is None:
        issued = value[2] if len(value) > 2 and isinstance(value[2], int) else 0
        if now.timestamp() - issued > CONFIRM_LINK_MAX_AGE.total_seconds():
            raise InvalidLink(f"This confirmation link has expired (links last {CONFIRM_LINK_MAX_AGE.days} days). "
                              "Subscribe again on the status page for a new one.")
    return subscriber


def subscriber_for_confirm(token: str, now: datetime | None = None) -> StatusSubscriber:
    """What a confirmation link's page shows (nothing changes); raises ``InvalidLink`` as ``confirm`` does."""
    return _confirmable(token, now or timezone.now(), lock=False)


def subscriber_for_unsubscribe(token: str) -> StatusSubscriber | None:
    """The subscription an unsubscribe link names, or None when it is already gone; raises ``InvalidLink``."""
    return _subscriber(_read(token, UNSUBSCRIBE_SALT), lock=False)


# --- Subscribe, confirm, unsubscribe ------------------------------------------------------------------

def _may_mail(email: str, team: Team | None) -> bool:
    """Claim one confirmation mail for ``email`` (see ``MAIL_INTERVAL``); False when it already had its share.

    ``cache.add`` and ``incr`` are atomic in Redis, so two requests at once can't both pass a full
    count. If the cache is unreachable the mail goes: a lost subscription is worse than one more mail.
    """
    seconds = int(MAIL_INTERVAL.total_seconds())
    digest = _digest(email)
    try:
        if not cache.add(f"comms:subscribe:{digest}:{team.pk if team else 'org'}", 1, timeout=seconds):
            return False
        address_key = f"comms:subscribe:{digest}"
        cache.add(address_key, 0, timeout=seconds)
        return cache.incr(address_key) <= MAX_MAILS_PER_ADDRESS
    except Exception:  # noqa: BLE001 - any cache failure: mail anyway, see above
        log.warning("status subscriptions: the cache is unavailable, not rate limiting", exc_info=True)
        return True


@transaction.atomic
def subscribe(*, email: str, team: Team | None = None, now: datetime | None = None) -> StatusSubscriber:
    """Ask for ``team``'s status page updates (the organisation's page without a team) at ``email``.

    Creates the subscription unconfirmed, or refreshes an unconfirmed one, and mails a confirmation
    link, at most once per address and page in ``MAIL_INTERVAL``. An address already confirmed gets no
    mail. The caller answers the same whatever happened. Raises ``ValidationError`` for a bad address.
    """
    now = now or timezone.now()
    email = normalise_email(email)
    subscriber, created = StatusSubscriber.objects.select_for_update().get_or_create(
        email=email, team=team, defaults={"created_at": now})
    if subscriber.confirmed_at is not None or not _may_mail(email, team):
        return subscriber
    if not created:
        subscriber.created_at = now  # the pending request is as old as its newest confirmation link
        subscriber.save(update_fields=["created_at"])
    context = {"page_name": page_name(team), "page_url": page_url(team), "confirm_url": confirm_url(subscriber, now),
               "days": CONFIRM_LINK_MAX_AGE.days}
    message_address(channel="email", address=email, kind=Notification.Kind.STATUS,
                    subject=f"Confirm your subscription to {page_name(team)}",
                    body=render_to_string("comms/email/confirm.txt", context), now=now)
    return subscriber


@transaction.atomic
def confirm(token: str, now: datetime | None = None) -> StatusSubscriber:
    """Confirm the subscription a confirmation link names. Idempotent: confirming twice keeps the first time.

    Raises ``InvalidLink``: forged or altered (400), expired (400), its subscription gone (404).
    """
    now = now or timezone.now()
    subscriber = _confirmable(token, now, lock=True)
    if subscriber.confirmed_at is not None:
        return subscriber
    subscriber.confirmed_at = now
    subscriber.save(update_fields=["confirmed_at"])
    return subscriber


@transaction.atomic
def unsubscribe(token: str) -> StatusSubscriber | None:
    """Delete the subscription an unsubscribe link names; the deleted row, or None if it was already gone.

    Idempotent (a mail client may send RFC 8058's POST twice). Raises ``InvalidLink`` for a forged link.
    """
    value = _read(token, UNSUBSCRIBE_SALT)
    subscriber = _subscriber(value, lock=True)
    if subscriber is not None:
        StatusSubscriber.objects.filter(pk=subscriber.pk).delete()
    return subscriber


@transaction.atomic
def remove_subscriber(*, subscriber: StatusSubscriber) -> None:
    """Delete a subscription by hand (the admin: someone asked by other means to stop the mails)."""
    StatusSubscriber.objects.filter(pk=subscriber.pk).delete()


# --- Telling subscribers ------------------------------------------------------------------------------

@dataclass
class _Mail:
    email: str
    subscriptions: list  # the address's StatusSubscribers that asked for this update, team pages first


def tell_status_subscribers(*, update: StatusUpdate, now: datetime | None = None) -> list[Notification]:
    """E-mail ``update`` to the confirmed subscribers of every page showing its incident; one mail per address.

    Only a public update of a public incident (``comms.queries.public_incidents``) goes out; anything else
    returns at once. Four queries however many subscribers (plus one INSERT per thousand mails); deliveries
    are queued when the caller's transaction commits.
    """
    if not update.public:
        return []
    now = now or timezone.now()
    incident = public_incidents().filter(pk=update.incident_id).first()  # the same rule as the page
    if incident is None:
        return []
    components = list(Component.objects.filter(services__incidents=incident).distinct()
                      .order_by("team_id", "position", "name", "id"))
    team_ids = {incident.team_id} | {c.team_id for c in components}
    subscribers = (StatusSubscriber.objects.filter(confirmed_at__isnull=False)
                   .filter(Q(team__isnull=True) | Q(team_id__in=team_ids)).select_related("team"))
    mails: dict[str, _Mail] = {}
    for subscriber in sorted(subscribers, key=lambda s: (s.email, s.team is None, s.team.name if s.team else "", s.pk)):
        mails.setdefault(subscriber.email, _Mail(subscriber.email, [])).subscriptions.append(subscriber)
    if not mails:
        return []
    messages = []
    for mail in mails.values():
        first = mail.subscriptions[0]
        shown = [c.name for c in components if first.team_id is None or c.team_id == first.team_id]
        link = unsubscribe_url(first)
        body = render_to_string("comms/email/update.txt", {
            "incident": incident, "update": update, "components": shown, "page_name": page_name(first.team),
            # In UTC, said so: a mail has no reader's zone (and the poster's zone may be active here).
            "posted": f"{update.created_at.astimezone(UTC):%d %b %Y, %H:%M} UTC",
            "incident_url": f"{page_url(first.team)}#{incident.number}",
            "unsubscribe": [(page_name(s.team), unsubscribe_url(s)) for s in mail.subscriptions],
        })
        messages.append({
            "address": mail.email,
            "subject": f"[{page_name(first.team)}] {incident.title}: {update.get_state_display()}",
            "body": body,
            # RFC 2369 and RFC 8058: mail clients show an "Unsubscribe" button that POSTs to the link.
            "headers": {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        })
    # Not linked to the incident: its timeline would list every subscriber's address, one event each.
    return message_addresses(channel="email", kind=Notification.Kind.STATUS, messages=messages, now=now)
