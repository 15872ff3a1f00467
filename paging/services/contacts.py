"""A person's contact methods, their verification, notification rules and working hours.

Who may change what: a person manages their own; staff anyone's; anyone else
is refused (``PermissionDenied``; the pages and the API never even show them
another person's methods: a 404). ``by=None`` is Vigil itself.

A method starts unverified and is used for pages only once verified: a
6-digit code is sent to it (``send_verification``: at most one a minute per
method, valid 15 minutes, only its HMAC stored) and typed back
(``verify_contact_method``: compared in constant time; five wrong codes void
it). Tests may go to an unverified method, so the person can check it arrives
before verifying it (rate-limited the same way). A person whose rules name no
verified method is paged at their account e-mail at once
(``notify.plans_for``), so deleting a method or a rule never leaves them
unpageable.
"""

import ipaddress
import logging
import re
import secrets
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core.links import site_url
from core.text import validate_one_line
from oncall.models import User
from oncall.models.people import SLACK_MEMBER_ID

from ..models import ContactMethod, Notification, NotificationRule, PagingProfile, Urgency
from .notify import message

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=15)
SEND_INTERVAL = timedelta(minutes=1)
MAX_WRONG_CODES = 5
MAX_DELAY_MINUTES = 1440
# Each method may be sent a code or a test once a minute: a cap on methods caps what one account can send.
MAX_METHODS = 20
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# "+", then 8 to 15 digits, the first not 0 (E.164); spaces, dots, dashes and brackets are dropped first.
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
PHONE_PUNCTUATION = re.compile(r"[\s().\-]")
SLACK_WEBHOOK_PREFIX = "https://hooks.slack.com/"

KIND_NAMES = dict(ContactMethod.Kind.choices)


class TooSoon(ValidationError):
    """A code or test was sent to this method less than a minute ago; ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, code="too_soon")
        self.retry_after = retry_after


# --- Permission -----------------------------------------------------------------------------------

def can_manage_contacts(by, user) -> bool:
    """May ``by`` see and change ``user``'s contact methods, rules, working hours? Themselves, or staff."""
    return by is None or (by.is_authenticated and (by.pk == user.pk or by.is_staff))


def _require(by, user) -> None:
    if not can_manage_contacts(by, user):
        raise PermissionDenied("You may only change your own contact methods and notification rules.")


# --- Addresses ------------------------------------------------------------------------------------

def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _https_url(address: str, what: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(address)
    except ValidationError:
        raise ValidationError(f"{what}: give a full URL such as https://example.com/vigil-hook.") from None
    parts = urlsplit(address)
    # Plain http only where nothing crosses a network (this machine) or in development (DEBUG).
    if parts.scheme != "https" and not (settings.DEBUG or _is_loopback(parts.hostname or "")):
        raise ValidationError(f"{what}: use an https:// URL; a page sent over plain http could be read or forged "
                              "on the way.")
    return address


def clean_address(kind: str, address: str) -> str:
    """``address`` checked for ``kind`` and normalised (phone punctuation dropped); ValidationError says what to fix."""
    if kind not in KIND_NAMES:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; use one of {', '.join(KIND_NAMES)}."})
    address = (address or "").strip()
    if not address:
        raise ValidationError({"address": "Give an address for this contact method."})
    try:
        validate_one_line(address)
        if len(address) > 500:
            raise ValidationError("Give at most 500 characters.")
        if kind == ContactMethod.Kind.EMAIL:
            EmailValidator(message=f"{address!r} is not an e-mail address, such as alice@example.com.")(address)
            local, _, domain = address.rpartition("@")
            address = f"{local}@{domain.lower()}"
        elif kind in (ContactMethod.Kind.SMS, ContactMethod.Kind.VOICE):
            number = PHONE_PUNCTUATION.sub("", address)
            if not E164.fullmatch(number):
                raise ValidationError(f"{address!r} is not a phone number in international form: a + then the "
                                      "country code and number, 8 to 15 digits, such as +4915112345678.")
            address = number
        elif kind == ContactMethod.Kind.SLACK:
            if address.startswith(("http://", "https://")):
                if not address.startswith(SLACK_WEBHOOK_PREFIX):
                    raise ValidationError("A Slack incoming-webhook URL starts with https://hooks.slack.com/.")
                _https_url(address, "Slack webhook")
            elif not SLACK_MEMBER_ID.fullmatch(address):
                raise ValidationError(f"{address!r} is neither a Slack member id (U or W then capitals and digits, "
                                      "such as U012AB3CD) nor an https://hooks.slack.com/ incoming-webhook URL.")
        elif kind == ContactMethod.Kind.WEBHOOK:
            _https_url(address, "Webhook")
    except ValidationError as error:
        raise ValidationError({"address": error.messages}) from None
    return address


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    try:
        validate_one_line(label)
    except ValidationError as error:
        raise ValidationError({"label": error.messages}) from None
    if len(label) > 60:
        raise ValidationError({"label": "Give a label of at most 60 characters."})
    return label


def _refuse_duplicate(user, kind: str, address: str, exclude_pk: int | None = None) -> None:
    others = ContactMethod.objects.filter(user=user, kind=kind, address=address)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError({"address": f"{KIND_NAMES[kind]} {address} is already one of this person's contact "
                                          "methods."})


# --- Contact methods ------------------------------------------------------------------------------

@transaction.atomic
def add_contact_method(*, user: User, kind: str, address: str, label: str = "", by) -> ContactMethod:
    """A new, unverified contact method (a webhook gets its signing secret). No code is sent here:
    ``send_verification`` does that."""
    _require(by, user)
    address = clean_address(kind, address)
    label = _clean_label(label)
    _refuse_duplicate(user, kind, address)
    if ContactMethod.objects.filter(user=user).count() >= MAX_METHODS:
        raise ValidationError(f"A person may have at most {MAX_METHODS} contact methods; delete one first.")
    return ContactMethod.objects.create(user=user, kind=kind, address=address, label=label)


@transaction.atomic
def update_contact_method(*, method: ContactMethod, by, address: str | None = None,
                          label: str | None = None) -> ContactMethod:
    """Change a method's label or address. A new address is unverified again (its rules wait for that;
    meanwhile the person falls back to their account e-mail if no other rule can page them)."""
    _require(by, method.user)
    method = ContactMethod.objects.select_for_update().get(pk=method.pk)
    fields = []
    if label is not None:
        method.label = _clean_label(label)
        fields.append("label")
    if address is not None:
        address = clean_address(method.kind, address)
        if address != method.address:
            _refuse_duplicate(method.user_id, method.kind, address, exclude_pk=method.pk)
            method.address = address
            method.verified_at = None
            method.code_hash, method.code_expires_at = "", None
            fields += ["address", "verified_at", "code_hash", "code_expires_at"]
    if fields:
        method.save(update_fields=fields)
    return method


@transaction.atomic
def delete_contact_method(*, method: ContactMethod, by) -> None:
    """Delete a method and the rules that use it. Allowed even for the last one: a person with no
    usable rule is paged at their account e-mail at once (``notify.plans_for``)."""
    _require(by, method.user)
    method.delete()


# --- Verification and tests -----------------------------------------------------------------------

def _code_hash(method: ContactMethod, code: str) -> str:
    # Keyed with SECRET_KEY and bound to the method and its address: a leaked table reveals no code,
    # and a code sent to an old address does not verify a new one.
    return salted_hmac("vigil.paging.verify", f"{method.pk}:{method.address}:{code}", algorithm="sha256").hexdigest()


def _wrong_tries_key(method: ContactMethod) -> str:
    return f"paging:verify-wrong:{method.pk}"


def _count_wrong_try(method: ContactMethod) -> int:
    """One more wrong code for ``method``; how many so far for its current code (0 if the cache is down)."""
    key = _wrong_tries_key(method)
    try:
        cache.add(key, 0, timeout=int(CODE_TTL.total_seconds()))
        return cache.incr(key)
    except Exception:  # noqa: BLE001 - an unreachable cache must not turn a wrong code into a 500
        return 0


def _forget_wrong_tries(method: ContactMethod) -> None:
    try:
        cache.delete(_wrong_tries_key(method))
    except Exception:  # noqa: BLE001 - as above
        log.warning("Could not reset the wrong-code count of contact method %s", method.pk, exc_info=True)


def _retry_after(last: datetime, now: datetime) -> int:
    return max(1, int((last + SEND_INTERVAL - now).total_seconds() + 0.999))


@transaction.atomic
def send_verification(*, method: ContactMethod, by, now: datetime | None = None) -> Notification:
    """Send a fresh 6-digit code to ``method`` (replacing any earlier one); valid for 15 minutes.

    Only the code's HMAC is stored. At most one code a minute per method (``TooSoon``): the row is
    locked, so two clicks at once send one code.
    """
    now = now or timezone.now()
    _require(by, method.user)
    method = ContactMethod.objects.select_for_update().select_related("user").get(pk=method.pk)
    if method.code_expires_at is not None:
        last_sent = method.code_expires_at - CODE_TTL
        if now < last_sent + SEND_INTERVAL:
            wait = _retry_after(last_sent, now)
            raise TooSoon(f"A code was sent to this method less than a minute ago; wait {wait} seconds before "
                          "asking for another.", retry_after=wait)
    code = f"{secrets.randbelow(1_000_000):06d}"
    method.code_hash = _code_hash(method, code)
    method.code_expires_at = now + CODE_TTL
    method.save(update_fields=["code_hash", "code_expires_at"])
    _forget_wrong_tries(method)
    body = (f"Your Vigil verification code is {code}. It expires in {CODE_TTL.seconds // 60} minutes.\n"
            f"Enter it on your notifications page: {site_url()}/paging/me/")
    return message(user=method.user, method=method, kind=Notification.Kind.VERIFY,
                   subject=f"Vigil verification code {code}", body=body, now=now)


def verify_contact_method(*, method: ContactMethod, code: str, by, now: datetime | None = None) -> ContactMethod:
    """Check ``code`` against the one sent to ``method``; on a match the method is verified and the code spent.

    Wrong, expired or no code pending: ValidationError (not tied to a field: in the API, ``code`` is the
    error's slug). The comparison takes the same time whatever
    the code (``constant_time_compare``); after five wrong codes the code is void and a new one must be sent.
    """
    now = now or timezone.now()
    _require(by, method.user)
    code = re.sub(r"\s", "", str(code or ""))
    void = False
    if not code:
        raise ValidationError("Enter the 6-digit code from the message.", code="no_code")
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=method.pk)
        if not method.code_hash or method.code_expires_at is None:
            if method.verified:
                return method
            raise ValidationError("No code is waiting for this method; send one first.", code="no_code")
        if method.code_expires_at <= now:
            raise ValidationError("That code has expired (codes last 15 minutes); send a new one.", code="expired")
        if constant_time_compare(_code_hash(method, code), method.code_hash):
            method.verified_at = now
            method.code_hash, method.code_expires_at = "", None
            method.save(update_fields=["verified_at", "code_hash", "code_expires_at"])
            _forget_wrong_tries(method)
            return method
        if _count_wrong_try(method) >= MAX_WRONG_CODES:
            # Void the code, committed before the refusal is raised (a new code resets the count).
            method.code_hash = ""
            method.save(update_fields=["code_hash"])
            void = True
    if void:
        raise ValidationError(f"That code was wrong {MAX_WRONG_CODES} times: it no longer works. Send a new code.",
                              code="wrong_code")
    raise ValidationError("That code is wrong; check the latest message, or send a new code.", code="wrong_code")


@transaction.atomic
def send_test(*, method: ContactMethod, by, now: datetime | None = None) -> Notification:
    """A test message through ``method``, verified or not (so the person can check it arrives before
    verifying). Pages only ever use verified methods. At most one test a minute per method (``TooSoon``)."""
    now = now or timezone.now()
    _require(by, method.user)
    method = ContactMethod.objects.select_for_update().select_related("user").get(pk=method.pk)
    last = (Notification.objects.filter(contact_method=method, kind=Notification.Kind.TEST,
                                        created_at__gt=now - SEND_INTERVAL)
            .order_by("-created_at").values_list("created_at", flat=True).first())
    if last is not None:
        wait = _retry_after(last, now)
        raise TooSoon(f"A test was sent to this method less than a minute ago; wait {wait} seconds before the next.",
                      retry_after=wait)
    state = "verified: pages use it" if method.verified else "not verified yet: pages will not use it until it is"
    body = (f"This is a test message from Vigil to your {method.get_kind_display()} {method.address}.\n"
            f"Pages to you will arrive like this. This method is {state}.\n"
            f"Your notification settings: {site_url()}/paging/me/")
    return message(user=method.user, method=method, kind=Notification.Kind.TEST, subject="Vigil test message",
                   body=body, now=now)


# --- Notification rules ---------------------------------------------------------------------------

def _clean_delay(delay_minutes) -> int:
    if isinstance(delay_minutes, bool) or not isinstance(delay_minutes, int) \
            or not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise ValidationError({"delay_minutes": f"Give whole minutes from 0 (at once) to {MAX_DELAY_MINUTES} "
                                                "(a day)."})
    return delay_minutes


@transaction.atomic
def add_rule(*, user: User, urgency: str, contact_method: ContactMethod, delay_minutes: int,
             by) -> NotificationRule:
    """"For a page of this urgency, use this method after N minutes if still unacknowledged".

    The method must be the person's own and verified.
    """
    _require(by, user)
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": f"Unknown urgency {urgency!r}; use high (SEV1, SEV2) or low (SEV3, SEV4)."})
    delay_minutes = _clean_delay(delay_minutes)
    method = ContactMethod.objects.filter(pk=contact_method.pk, user=user).first()
    if method is None:
        raise ValidationError({"contact_method": "Choose one of this person's own contact methods."})
    if not method.verified:
        raise ValidationError({"contact_method": f"Verify {method.get_kind_display()} {method.address} first (send "
                                                 "a code to it and enter the code); only verified methods page."})
    if NotificationRule.objects.filter(user=user, urgency=urgency, contact_method=method,
                                       delay_minutes=delay_minutes).exists():
        raise ValidationError(f"That rule exists already: {describe_rule_parts(method, delay_minutes)} for "
                              f"{urgency} urgency.")
    return NotificationRule.objects.create(user=user, urgency=urgency, contact_method=method,
                                           delay_minutes=delay_minutes)


@transaction.atomic
def delete_rule(*, rule: NotificationRule, by) -> None:
    """Delete a rule. With no rule left for an urgency, the person is paged at their account e-mail at once."""
    _require(by, rule.user)
    rule.delete()


def describe_delay(delay_minutes: int) -> str:
    if delay_minutes == 0:
        return "at once"
    if delay_minutes % 60 == 0:
        hours = delay_minutes // 60
        return f"after {hours} hour{'s' if hours != 1 else ''}"
    return f"after {delay_minutes} min"


def describe_rule_parts(method: ContactMethod, delay_minutes: int) -> str:
    return f"{method.get_kind_display()} {method.address} {describe_delay(delay_minutes)}"


# --- Working hours --------------------------------------------------------------------------------

@transaction.atomic
def set_working_hours(*, user: User, hold_low_urgency: bool, work_days, work_start: time | None,
                      work_end: time | None, by) -> PagingProfile:
    """Store a person's working hours, read in their own time zone (``User.timezone``).

    With ``hold_low_urgency`` on, low-urgency pages wait for the next working hours; an end before
    the start means the hours run past midnight (22:00–06:00).
    """
    _require(by, user)
    days = sorted(set(work_days or []))
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValidationError({"work_days": "Give weekdays as numbers from 0 (Monday) to 6 (Sunday)."})
    if (work_start is None) != (work_end is None):
        raise ValidationError({"work_end" if work_end is None else "work_start":
                               "Give both the start and the end of your working hours, or neither."})
    if work_start is not None and work_start == work_end:
        raise ValidationError({"work_end": "The end must differ from the start (an end before the start runs "
                                           "past midnight)."})
    if hold_low_urgency and (not days or work_start is None):
        raise ValidationError({"hold_low_urgency": "To hold low-urgency pages, give your working days and hours."})
    profile, _ = PagingProfile.objects.select_for_update().get_or_create(user=user)
    profile.hold_low_urgency = bool(hold_low_urgency)
    profile.work_days = days
    profile.work_start, profile.work_end = work_start, work_end
    profile.save(update_fields=["hold_low_urgency", "work_days", "work_start", "work_end"])
    return profile
