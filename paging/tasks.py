"""Celery entry points for paging. Each is a few lines calling one service.

``advance`` and ``deliver`` are queued on commit with a countdown; ``sweep``
runs from beat every ``PAGING_SWEEP_SECONDS`` (default 5) and does whatever
a lost task left undone. All three are safe to run twice, or at once.
"""

from celery import shared_task

from .services.delivery import deliver as deliver_notification
from .services.escalation import advance_escalation
from .services.escalation import sweep as sweep_paging
from .services.notify import delivering_inline


@shared_task(name="paging.tasks.advance")
def advance(run_id: int, token: str) -> bool:
    """Enter the run's due step, unless the token is stale (a duplicate, or the run moved on); then
    send the step's pages that are due now itself (``delivering_inline``)."""
    with delivering_inline():
        return advance_escalation(run_id, token)


@shared_task(name="paging.tasks.deliver")
def deliver(notification_id: int) -> str:
    """Deliver one notification through its channel (retries are the service's own schedule)."""
    return deliver_notification(notification_id)


@shared_task(name="paging.tasks.sweep")
def sweep() -> dict:
    """Advance due runs, tell leads of overdue incidents, deliver due messages."""
    return sweep_paging()
