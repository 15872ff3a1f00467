"""Celery entry points for incidents: a few lines each, calling services."""

from celery import shared_task

from .services.ingest import check_heartbeats as check_heartbeats_service


@shared_task(name="alerts.tasks.check_heartbeats", ignore_result=True)
def check_heartbeats() -> int:
    """Beat, every 30 s: open an incident for each heartbeat overdue past interval + grace.

    Idempotent: a heartbeat already down is skipped, each is re-checked under its row lock.
    """
    return check_heartbeats_service()
