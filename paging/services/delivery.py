"""Delivering notifications: claim the row, send through its channel, record the attempt.

A delivery claims its row with a lease (``PAGING_DELIVERY_LEASE_SECONDS``) in
its own transaction before sending, so a duplicated or redelivered task finds
it claimed (or sent) and returns: nobody is paged twice. A worker that dies
mid-send leaves the lease to expire, and the sweep then tries again; so the
lease must outlast the slowest send (each channel call gives up after
``PAGING_HTTP_TIMEOUT_SECONDS`` of silence; SMS and voice may try each
provider in turn). The channel is called with no transaction open and no
lock held.

A failure is retried with exponential backoff (``PAGING_RETRY_BASE_SECONDS``
doubling, up to ``PAGING_MAX_ATTEMPTS`` attempts) unless the channel says
retrying cannot help; every attempt's outcome is stored on the row, and a
message that fails for good is a ``delivery_failed`` event on its incident's
timeline. An escalation's page whose incident was acknowledged or resolved
before it was due (a rule's delay) is cancelled, not sent.
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents.models import IncidentStatus

from ..channels import DeliveryError, channel_for
from ..models import EscalationRun, Notification, PagingEvent

log = logging.getLogger(__name__)
DUE_BATCH = 500
STOPPED_RUNS = (EscalationRun.State.ACKNOWLEDGED, EscalationRun.State.RESOLVED)
FINISHED = (Notification.Status.SENT, Notification.Status.FAILED, Notification.Status.CANCELLED)


def _stopped(row: Notification) -> str:
    """Why an escalation's page is no longer owed, or "": its incident was acknowledged or resolved,
    or its run stopped (a reopened incident has a new run), before the page was due."""
    if row.kind != Notification.Kind.PAGE or row.run_id is None:
        return ""  # paged by hand, or not a page: sent whatever the incident's state
    if row.incident is not None and row.incident.status != IncidentStatus.TRIGGERED:
        return f"Not sent: the incident was {row.incident.status} before this was due"
    if row.run.state in STOPPED_RUNS:
        return f"Not sent: the escalation had stopped ({row.run.get_state_display()}) before this was due"
    return ""


def _claim(notification_id: int, now: datetime) -> Notification | None:
    """Lock the row and take it (``sending``, a lease, one attempt more) if it is due and nobody holds it."""
    with transaction.atomic():
        # skip_locked: a row locked elsewhere is being claimed there (its lease then tells the rest).
        row = (Notification.objects.select_for_update(of=("self",), skip_locked=True)
               .select_related("incident__severity", "contact_method", "user", "run")
               .filter(pk=notification_id).first())
        if row is None or row.status in FINISHED:
            return None
        if row.status == Notification.Status.SENDING and row.lease_until and row.lease_until > now:
            return None  # another delivery holds it
        if row.next_attempt_at and row.next_attempt_at > now:
            return None  # not due (a rule's delay, a backoff): its own task or the sweep comes back
        stopped = _stopped(row)
        if stopped:
            row.status = Notification.Status.CANCELLED
            row.last_error = stopped
            row.next_attempt_at = row.lease_until = None
            row.save(update_fields=["status", "last_error", "next_attempt_at", "lease_until"])
            return None
        row.status = Notification.Status.SENDING
        row.attempts += 1
        row.lease_until = now + timedelta(seconds=settings.PAGING_DELIVERY_LEASE_SECONDS)
        row.save(update_fields=["status", "attempts", "lease_until"])
        return row


def deliver(notification_id: int, *, now: datetime | None = None) -> str:
    """Send one notification if it is due and nobody else holds it; returns its status afterwards.

    Idempotent: a row already sent, failed or cancelled, or held by another
    delivery, is "skipped".
    """
    now = now or timezone.now()
    started = time.monotonic()
    row = _claim(notification_id, now)
    if row is None:
        return "skipped"
    try:
        provider = channel_for(row.channel).send(row)
    except DeliveryError as error:
        return _failed(row, str(error), retry=error.retry, now=_later(now, started))
    except Exception as error:  # noqa: BLE001 - any channel bug is a failed attempt, stored and retried
        log.exception("Channel %s failed on notification %s", row.channel, row.pk)
        return _failed(row, f"{type(error).__name__}: {error}", retry=True, now=_later(now, started))
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENT, sent_at=_later(now, started), provider=provider or "",
        lease_until=None, next_attempt_at=None, last_error="",
    )
    return Notification.Status.SENT


def _later(now: datetime, started: float) -> datetime:
    """``now`` (perhaps a test's clock) moved on by the time the send took."""
    return now + timedelta(seconds=time.monotonic() - started)


def _failed(row: Notification, error: str, *, retry: bool, now: datetime) -> str:
    """Store a failed attempt: queued again after a backoff, or failed for good and told on the timeline."""
    with transaction.atomic():
        if retry and row.attempts < settings.PAGING_MAX_ATTEMPTS:
            backoff = settings.PAGING_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1)
            Notification.objects.filter(pk=row.pk).update(
                status=Notification.Status.QUEUED, last_error=error[:2000], lease_until=None,
                next_attempt_at=now + timedelta(seconds=backoff),
            )
            _queue_retry(row.pk, backoff)
            return Notification.Status.QUEUED
        Notification.objects.filter(pk=row.pk).update(
            status=Notification.Status.FAILED, last_error=error[:2000], lease_until=None, next_attempt_at=None,
        )
        if row.incident_id is not None:
            PagingEvent.objects.create(
                incident_id=row.incident_id, run_id=row.run_id, kind=PagingEvent.Kind.DELIVERY_FAILED, at=now,
                summary=f"Could not reach {row.recipient} by {row.get_channel_display()} after "
                        f"{row.attempts} attempt{'s' if row.attempts != 1 else ''}: {error}"[:500],
                data={"notification": row.pk, "user": row.user.username if row.user_id else None,
                      "channel": row.channel},
            )
    return Notification.Status.FAILED


def _queue_retry(notification_id: int, countdown: float) -> None:
    """The next attempt's task, queued on commit like every delivery; the sweep covers a broker that is down."""
    def send():
        from ..tasks import deliver as deliver_task  # tasks import this module
        try:
            deliver_task.apply_async((notification_id,), countdown=countdown)
        except Exception:  # noqa: BLE001 - broker down: the sweep retries it
            log.warning("Could not queue retry of notification %s", notification_id, exc_info=True)

    transaction.on_commit(send)


def deliver_due(*, now: datetime | None = None) -> int:
    """Deliver every notification that is due and unclaimed (or whose claim expired): the sweep's part.

    Returns how many were sent. The ``notification_pending`` index serves the query.
    """
    now = now or timezone.now()
    expired = Q(lease_until__lte=now) | Q(lease_until__isnull=True)
    free = Q(status=Notification.Status.QUEUED) | (Q(status=Notification.Status.SENDING) & expired)
    due = list(Notification.objects.filter(free, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:DUE_BATCH])
    return sum(deliver(pk, now=now) == Notification.Status.SENT for pk in due)
