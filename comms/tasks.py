"""Celery entry points for comms; each calls one service."""

from celery import shared_task

from .updates import send_update_reminders


@shared_task(name="comms.tasks.remind_updates")
def remind_updates() -> int:
    """Remind whoever owes an overdue stakeholder update (beat, every minute)."""
    return send_update_reminders()
