"""Celery entry points for on-call. Each is a few lines calling one service.

Both run from beat (see CELERY_BEAT_SCHEDULE) and are safe to run twice:
the services claim a row per hand-off and per shift before emailing.
"""

from celery import shared_task

from .services.handoffs import send_due_handoffs, send_shift_reminders


@shared_task(name="oncall.tasks.notify_handoffs")
def notify_handoffs(now=None) -> int:
    """Email the hand-off checklist for every hand-off of the last minutes."""
    return send_due_handoffs(now=now)


@shared_task(name="oncall.tasks.remind_upcoming_shifts")
def remind_upcoming_shifts(now=None) -> int:
    """Email each person once, a configurable time before their shift."""
    return send_shift_reminders(now=now)
