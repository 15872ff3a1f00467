"""Turning "tell this person" into ``Notification`` rows, and queueing their delivery.

Every message to a person starts here: pages (per their notification rules),
stakeholder notices, overdue notices, hand-offs and reminders from ``oncall``,
tests and verification codes. Rows are written in the caller's transaction;
their delivery tasks are queued when it commits (``queue_delivery``), and the
sweep delivers any whose task was lost.
"""

import logging
import secrets
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ..models import ContactMethod, Notification, NotificationRule, PagingProfile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Planned:
    method: ContactMethod
    delay_minutes: int


def ensure_default_contact(user) -> ContactMethod | None:
    """A person's account e-mail as a verified contact method with "at once" rules for both urgencies.

    Every new person gets it (``paging.receivers``), so nobody is unpageable;
    it is also the fallback for someone whose rules name no verified method.
    """
    if not user.email:
        return None
    method, _ = ContactMethod.objects.get_or_create(
        user=user, kind=ContactMethod.Kind.EMAIL, address=user.email,
        defaults={"label": "Account e-mail", "verified_at": timezone.now()},
    )
    if not method.verified:
        return method
    if not NotificationRule.objects.filter(user=user).exists():
        NotificationRule.objects.bulk_create([
            NotificationRule(user=user, urgency=urgency, contact_method=method, delay_minutes=0)
            for urgency in ("high", "low")
        ], ignore_conflicts=True)
    return method


def plans_for(users, urgency: str) -> dict[int, list[Planned]]:
    """Each person's verified methods for ``urgency`` with their delays (the earliest per method).

    Two queries however many people. Someone with no usable rule falls back to
    their account e-mail at once, created if missing.
    """
    plans: dict[int, dict[int, Planned]] = {u.pk: {} for u in users}
    rules = (NotificationRule.objects.filter(user__in=list(plans), urgency=urgency, contact_method__verified_at__isnull=False)
             .select_related("contact_method").order_by("delay_minutes", "id"))
    for rule in rules:
        plans[rule.user_id].setdefault(rule.contact_method_id, Planned(rule.contact_method, rule.delay_minutes))
    out = {}
    for user in users:
        planned = list(plans[user.pk].values())
        if not planned:
            method = ensure_default_contact(user)
            planned = [Planned(method, 0)] if method is not None and method.verified else []
        out[user.pk] = planned
    return out


def held_until(user, at: datetime, profiles: dict[int, PagingProfile]) -> datetime:
    """When a low-urgency message to ``user`` may go: ``at``, or the start of their next working hours."""
    profile = profiles.get(user.pk)
    if profile is None or not profile.hold_low_urgency or not profile.work_days or not profile.work_start \
            or not profile.work_end:
        return at
    zone = ZoneInfo(user.timezone or "UTC")
    local = at.astimezone(zone)
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        if day.weekday() not in profile.work_days:
            continue
        start = datetime.combine(day, profile.work_start, zone)
        end = datetime.combine(day, profile.work_end, zone)
        if end <= start:
            end += timedelta(days=1)
        if local < end:
            return max(at, start.astimezone(at.tzinfo))
    return at


def reply_code() -> str:
    return f"{secrets.randbelow(9000) + 1000}"


def page_people(*, users, urgency: str, incident, subject: str, body, now: datetime, kind: str = Notification.Kind.PAGE,
                run=None, step: int | None = None, loop: int | None = None, sent_by=None) -> list[Notification]:
    """One notification per person and planned method; ``body(notification)`` renders each message.

    Low urgency is held to a person's working hours when they asked for it. Delivery is queued on commit.
    """
    users = list({u.pk: u for u in users}.values())
    plans = plans_for(users, urgency)
    profiles = (PagingProfile.objects.in_bulk([u.pk for u in users], field_name="user_id")
                if urgency == "low" else {})
    rows = []
    for user in users:
        for planned in plans[user.pk]:
            due = now + timedelta(minutes=planned.delay_minutes)
            if urgency == "low":
                due = held_until(user, due, profiles)
            rows.append(Notification(
                kind=kind, user=user, contact_method=planned.method, channel=planned.method.kind,
                address=planned.method.address, incident=incident, run=run, step=step, loop=loop, sent_by=sent_by,
                subject=subject[:255], body="", due_at=due, next_attempt_at=due, created_at=now,
                reply_code=reply_code() if planned.method.kind in ("sms", "voice") else "",
            ))
    created = Notification.objects.bulk_create(rows)
    for row in created:
        row.body = body(row)
    Notification.objects.bulk_update(created, ["body"])
    queue_delivery(created, now=now)
    return created


def message(*, user, method: ContactMethod, kind: str, subject: str, body: str, incident=None,
            attachments: list[dict] | None = None, now: datetime | None = None) -> Notification:
    """One message through one given method (tests, verification codes, hand-offs); delivery queued on commit.

    ``attachments`` (e-mail only): ``[{"filename", "content_type", "content"}]``, text content."""
    now = now or timezone.now()
    row = Notification.objects.create(
        kind=kind, user=user, contact_method=method, channel=method.kind, address=method.address,
        incident=incident, subject=subject[:255], body=body, attachments=attachments or [], due_at=now,
        next_attempt_at=now, created_at=now,
    )
    queue_delivery([row], now=now)
    return row


def message_address(*, channel: str, address: str, kind: str, subject: str, body: str, incident=None,
                    headers: dict | None = None, now: datetime | None = None) -> Notification:
    """One message to an address that is nobody's account (a team's Slack channel, a status page
    subscriber's e-mail), delivered, retried and recorded like any other; queued on commit."""
    now = now or timezone.now()
    row = Notification.objects.create(
        kind=kind, user=None, channel=channel, address=address, incident=incident, subject=subject[:255],
        body=body, headers=headers or {}, due_at=now, next_attempt_at=now, created_at=now,
    )
    queue_delivery([row], now=now)
    return row


def message_addresses(*, channel: str, kind: str, messages: list[dict], incident=None,
                      now: datetime | None = None) -> list[Notification]:
    """``message_address`` for many addresses at once (a status page's subscribers): one INSERT per
    thousand rows, however many there are; their deliveries queued on commit. Each of ``messages`` is
    ``{"address", "subject", "body", "headers"?}``."""
    now = now or timezone.now()
    rows = [Notification(
        kind=kind, user=None, channel=channel, address=m["address"], incident=incident, subject=m["subject"][:255],
        body=m["body"], headers=m.get("headers") or {}, due_at=now, next_attempt_at=now, created_at=now,
    ) for m in messages]
    created = Notification.objects.bulk_create(rows, batch_size=1000)
    queue_delivery(created, now=now)
    return created


def email_person(*, user, kind: str, subject: str, body: str, incident=None, attachments: list[dict] | None = None,
                 now: datetime | None = None) -> Notification | None:
    """An e-mail to a person's account address, as a notification (``oncall``'s hand-offs, reminders, swaps;
    ``postmortems``' meeting invitations, with the .ics in ``attachments``, and reminder digests)."""
    now = now or timezone.now()
    if not user.email:
        return None
    method = ContactMethod.objects.filter(user=user, kind="email", address=user.email).first() \
        or ensure_default_contact(user)
    return message(user=user, method=method, kind=kind, subject=subject, body=body, incident=incident,
                   attachments=attachments, now=now)


# Set by the ``advance`` task: the pages a step owes now are sent by that task itself once its
# transaction commits, not queued as one more task each (a broker round trip and a second worker
# per page); the rest (a rule's delay, working hours) are queued as usual.
_deliver_inline: ContextVar[bool] = ContextVar("paging_deliver_inline", default=False)


@contextmanager
def delivering_inline():
    """Within this block, ``queue_delivery`` sends what is due at once itself after the commit."""
    token = _deliver_inline.set(True)
    try:
        yield
    finally:
        _deliver_inline.reset(token)


def queue_delivery(notifications, *, now: datetime) -> None:
    """Queue a delivery task per notification once the transaction commits, counting down to its due time.

    A broker that is down is logged, not raised: the rows are stored, and the
    sweep (``paging.tasks.sweep``) delivers what is due. Inside ``delivering_inline`` the
    notifications due now are delivered right after the commit instead.
    """
    pending = [(n.pk, max(0.0, (n.due_at - now).total_seconds())) for n in notifications]
    if not pending:
        return
    inline = _deliver_inline.get()

    def send():
        from ..tasks import deliver
        from .delivery import deliver as deliver_now
        later = [(pk, countdown) for pk, countdown in pending if not (inline and countdown == 0)]
        if inline:
            for pk, countdown in pending:
                if countdown == 0:
                    deliver_now(pk)
        try:
            for pk, countdown in later:
                deliver.apply_async((pk,), countdown=countdown)
        except Exception:  # noqa: BLE001 - the broker is down: the sweep delivers later
            log.warning("Could not queue %d deliveries; the sweep will send them", len(later), exc_info=True)

    transaction.on_commit(send)
