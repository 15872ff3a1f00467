"""Celery entry points for postmortems; each calls one service."""

from celery import shared_task

from .services.reminders import send_reminders as send_morning_digests


@shared_task(name="postmortems.tasks.send_reminders")
def send_reminders() -> int:
    """E-mail each person their morning digest of postmortems due and overdue action items, once a day at
    08:xx their time (beat, every 15 minutes; the digest row makes it once)."""
    return send_morning_digests()
