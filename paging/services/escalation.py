"""The escalation engine: the database decides, Celery delivers (../ARCHITECTURE.md).

``start_escalation`` gives an open incident one active ``EscalationRun``,
snapshotting its policy. ``advance_escalation`` is the only thing that moves a
run: it locks the row, returns at once unless the step asked for is due and
the token matches, enters the step (its people paged, or "nobody" said on the
timeline and the next step tried), and sets the next step's time. It is
reached by a task queued on commit with a countdown (punctual) and by the
beat sweep over the ``run_due`` index (nothing lost when a task is). Stopping
is a state: a task that arrives after an acknowledgement finds the run
stopped, or its token stale, and returns.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentStatus, Responder, SeverityPolicy
from incidents.services import add_responders
from oncall.models import EscalationPolicy, Membership
from oncall.queries import reach_targets

from ..models import EscalationRun, Notification, PagingEvent, new_token, urgency_of
from . import messages
from .notify import page_people

log = logging.getLogger(__name__)

# Used when neither the incident's services nor its team name a policy: the
# team's primary on-call, then its leads after 15 minutes.
FALLBACK_NAME = "Team fallback (no policy set)"
SWEEP_BATCH = 200


def fallback_snapshot(team_id: int) -> dict:
    return {"team": team_id, "repeat": 0, "steps": [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}]},
        {"delay_minutes": 15, "targets": [{"type": "team_leads", "id": team_id}]},
    ]}


def policy_for(incident: Incident) -> EscalationPolicy | None:
    """The policy of an incident: its services' policy for its severity, else a service's default,
    else its team's default policy. Services are taken in name order."""
    services = list(incident.services.order_by("name").values_list("pk", "escalation_policy_id"))
    ids = [pk for pk, _ in services]
    if ids:
        chosen = {sp.service_id: sp.policy for sp in SeverityPolicy.objects.filter(
            service_id__in=ids, severity_id=incident.severity_id).select_related("policy")}
        for pk, _ in services:
            if pk in chosen:
                return chosen[pk]
        for _, policy_id in services:
            if policy_id is not None:
                return EscalationPolicy.objects.filter(pk=policy_id).first()
    return EscalationPolicy.objects.filter(team_id=incident.team_id, is_default=True).first()


def snapshot_of(policy: EscalationPolicy) -> dict:
    return {"team": policy.team_id, "repeat": policy.repeat, "steps": policy.steps}


def start_escalation(*, incident: Incident, now: datetime | None = None) -> EscalationRun:
    """The incident's active run, started now if it has none; its first step is queued on commit."""
    now = now or timezone.now()
    # No savepoint: called inside the transaction that declares the incident (alert ingestion's
    # hot path), whose failure rolls this back with it.
    with transaction.atomic(savepoint=False):
        running = EscalationRun.objects.active().filter(incident=incident).first()
        if running is not None:
            return running
        policy = policy_for(incident)
        severity = incident.severity
        run = EscalationRun.objects.create(
            incident=incident, policy=policy, policy_name=policy.name if policy else FALLBACK_NAME,
            snapshot=snapshot_of(policy) if policy else fallback_snapshot(incident.team_id),
            urgency=urgency_of(severity), next_step_at=now, started_at=now,
            ack_due_at=now + severity.acknowledge_target, resolve_due_at=now + severity.resolve_target,
        )
        queue_advance(run)
    return run


def queue_advance(run: EscalationRun) -> None:
    """Queue ``advance`` for the run's current token at its next step's time, once this transaction commits."""
    if run.state != EscalationRun.State.ACTIVE or run.next_step_at is None:
        return
    pk, token, at = run.pk, run.token, run.next_step_at

    def send():
        from ..tasks import advance
        try:
            advance.apply_async((pk, token), eta=at)
        except Exception:  # noqa: BLE001 - broker down: the sweep advances it when due
            log.warning("Could not queue escalation run %s; the sweep will advance it", pk, exc_info=True)

    transaction.on_commit(send)


def advance_escalation(run_id: int, token: str | None = None, *, now: datetime | None = None,
                       on_call: dict | None = None) -> bool:
    """Enter the run's due step. Returns False, changing nothing, when the run is gone, stopped, not
    due yet, or ``token`` is not its current one (a duplicate or stale task). ``on_call`` caches
    who is on call per team across the runs of one sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        # skip_locked: a run locked elsewhere is being advanced (or stopped) there; waiting for it
        # would only find the step entered already.
        run = (EscalationRun.objects.select_for_update(of=("self",), skip_locked=True)
               .select_related("incident__severity", "incident__team").filter(pk=run_id).first())
        if run is None or run.state != EscalationRun.State.ACTIVE:
            return False
        if (token is not None and token != run.token) or run.next_step_at is None or run.next_step_at > now:
            return False
        incident = run.incident
        if incident.status != IncidentStatus.TRIGGERED:
            # Stopped by its state: an acknowledgement whose stop this run missed.
            _stop(run, EscalationRun.State.RESOLVED if not incident.is_open else EscalationRun.State.ACKNOWLEDGED,
                  by=None, now=now)
            return False
        if run.ack_due_at is not None and run.ack_breached_at is None and now >= run.ack_due_at:
            run.ack_breached_at = now
            target = incident.severity.acknowledge_target
            _event(run, PagingEvent.Kind.ACK_BREACHED, now,
                   f"Not acknowledged within {messages.minutes(target)} ({incident.severity.name} target): "
                   "escalating to the next step now")
        _enter_next_step(run, now, on_call if on_call is not None else {})
        run.token = new_token()
        run.save()
        queue_advance(run)
    return True


def _enter_next_step(run: EscalationRun, now: datetime, on_call: dict) -> None:
    steps, repeat, incident = run.steps, run.snapshot.get("repeat", 0), run.incident
    for _ in range(len(steps) * (repeat + 1) + 1):
        if run.step >= len(steps):
            if run.loop >= repeat:
                run.state = EscalationRun.State.EXHAUSTED
                run.next_step_at = None
                _event(run, PagingEvent.Kind.ESCALATED, now,
                       f"Escalation policy {run.policy_name} ran out of steps; nobody acknowledged",
                       {"exhausted": True})
                return
            run.loop += 1
            run.step = 0
        step = steps[run.step]
        reached = reach_targets(step["targets"], team_id=run.snapshot.get("team", incident.team_id), at=now,
                                on_call=on_call)
        people = list({p.pk: p for r in reached for p in r.people}.values())
        number, label = run.step + 1, ", ".join(r.label for r in reached)
        loop_note = f" (repeat {run.loop})" if run.loop else ""
        if not people:
            _event(run, PagingEvent.Kind.ESCALATED, now,
                   f"Step {number}{loop_note} reaches nobody ({label}): falling through to the next step",
                   {"step": run.step, "loop": run.loop, "nobody": True})
            run.step += 1
            continue
        notifications = page_people(
            users=people, urgency=run.urgency, incident=incident, run=run, step=run.step, loop=run.loop,
            subject=messages.page_subject(incident), body=lambda n: messages.page_body(n, incident), now=now,
        )
        add_responders(incident=incident, users=people, by=None, via=Responder.Via.ESCALATION, now=now)
        names = ", ".join(p.display_name for p in people)
        _event(run, PagingEvent.Kind.ESCALATED, now, f"Step {number}{loop_note}: paged {names} ({label})",
               {"step": run.step, "loop": run.loop, "users": [p.username for p in people],
                "notifications": len(notifications)})
        delay = timedelta(minutes=step["delay_minutes"])
        run.step += 1
        run.next_step_at = now + delay
        if run.ack_due_at is not None and run.ack_breached_at is None and now < run.ack_due_at < run.next_step_at:
            run.next_step_at = run.ack_due_at
        return
    # Unreachable: the loop above ends by paging someone or running out of steps.
    raise AssertionError("escalation did not terminate")  # pragma: no cover


def _event(run, kind, now, summary, data=None, actor=None) -> None:
    PagingEvent.objects.create(incident_id=run.incident_id, run=run, kind=kind, actor=actor,
                               summary=summary[:500], data=data or {}, at=now)


def _stop(run: EscalationRun, state: str, *, by, now: datetime) -> None:
    run.state = state
    run.stopped_at = now
    run.stopped_by = by
    run.next_step_at = None
    run.token = new_token()
    if state == EscalationRun.State.RESOLVED:
        run.resolve_due_at = None
    run.save()  # no timeline event of its own: the status change that stopped it is there already
    # Escalation pages still waiting (a rule's delay, working hours) are no longer owed.
    Notification.objects.filter(run=run, status=Notification.Status.QUEUED).update(
        status=Notification.Status.CANCELLED, last_error=f"Incident {state} before this was due", next_attempt_at=None,
    )


def stop_escalation(*, incident: Incident, state: str, by=None, now: datetime | None = None) -> None:
    """Stop the incident's active run (acknowledged or resolved); on resolve, also its resolve-target watch."""
    now = now or timezone.now()
    with transaction.atomic():
        for run in EscalationRun.objects.select_for_update().filter(incident=incident, state=EscalationRun.State.ACTIVE):
            _stop(run, state, by=by, now=now)
        if state == EscalationRun.State.RESOLVED:
            EscalationRun.objects.filter(incident=incident, resolve_due_at__isnull=False).update(resolve_due_at=None)


def notify_overdue(run_id: int, *, now: datetime | None = None) -> bool:
    """Tell the team's leads and managers that the incident passed its resolve target (once per run)."""
    now = now or timezone.now()
    with transaction.atomic():
        run = (EscalationRun.objects.select_for_update(of=("self",)).select_related("incident__severity", "incident__team")
               .filter(pk=run_id, resolve_due_at__lte=now).first())
        if run is None:
            return False
        run.resolve_due_at = None
        run.save(update_fields=["resolve_due_at"])
        incident = run.incident
        if not incident.is_open:
            return False
        people = [m.user for m in Membership.objects.filter(
            team_id=incident.team_id, role__in=["lead", "manager"], user__is_active=True).select_related("user")]
        target = messages.minutes(incident.severity.resolve_target)
        page_people(users=people, urgency=run.urgency, incident=incident, kind=Notification.Kind.OVERDUE,
                    subject=f"[Overdue] {messages.page_subject(incident)}",
                    body=lambda n: messages.overdue_body(n, incident), now=now)
        names = ", ".join(p.display_name for p in people) or "nobody (the team has no leads or managers)"
        _event(run, PagingEvent.Kind.RESOLVE_BREACHED, now,
               f"Not resolved within {target} ({incident.severity.name} target): told {names}")
    return True


def sweep(*, now: datetime | None = None) -> dict:
    """Advance every due run, tell leads of every overdue incident, deliver every due message.

    The beat safety net: whatever a lost task, a broker restart or a dead
    worker left behind is done here within one sweep interval.
    """
    from .delivery import deliver_due

    now = now or timezone.now()
    on_call: dict = {}
    advanced = 0
    for run_id in list(EscalationRun.objects.due(now).order_by("next_step_at").values_list("pk", flat=True)[:SWEEP_BATCH]):
        advanced += advance_escalation(run_id, now=now, on_call=on_call)
    overdue = sum(notify_overdue(run_id, now=now) for run_id in list(
        EscalationRun.objects.resolve_overdue(now).values_list("pk", flat=True)[:SWEEP_BATCH]))
    delivered = deliver_due(now=now)
    return {"advanced": advanced, "overdue": overdue, "delivered": delivered}
