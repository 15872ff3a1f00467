"""The escalation engine with an injected clock: who is paged when, and when it stops.

Every test drives time through ``now=`` (the sweep, acknowledgements), never
sleeps, and reads what a person would notice: the e-mails that went out,
and the incident's timeline.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents.models import Severity, SeverityPolicy
from incidents.queries import timeline
from incidents.services import create_incident, transition_incident, update_incident
from oncall.models import EscalationPolicy, Membership
from oncall.services.schedules import create_rotation
from paging.models import (
    ContactMethod,
    EscalationRun,
    Notification,
    NotificationRule,
    PagingProfile,
)
from paging.services.escalation import advance_escalation, policy_for, sweep
from tests.factories import MembershipFactory, ServiceFactory, UserFactory

T0 = timezone.now().replace(microsecond=0)


def minutes(n):
    return T0 + timedelta(minutes=n)


def paged() -> list[str]:
    """Usernames paged so far (in order), from the e-mail outbox, as a person would see them arrive;
    the notices that an incident passed its resolve target are not pages."""
    return [message.to[0].split("@")[0] for message in mail.outbox if not message.subject.startswith("[Overdue]")]


def declare(team, severity="SEV2", services=(), by=None, at=T0):
    return create_incident(title="Checkout is failing", severity=Severity.objects.get(name=severity), team=team,
                           services=list(services), by=by, now=at)


def policy(team, steps, repeat=0, default=True, name="Payments escalation"):
    return EscalationPolicy.objects.create(team=team, name=name, steps=steps, repeat=repeat, is_default=default)


def step(delay, *targets):
    return {"delay_minutes": delay, "targets": [{"type": kind, "id": ident} for kind, ident in targets]}


@pytest.fixture
def dave(payments):
    user = UserFactory(username="dave", full_name="Dave Manager")
    MembershipFactory(team=payments, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def two_steps(payments, alice, bob):
    return policy(payments, [step(10, ("user", bob.pk)), step(10, ("team_leads", payments.pk))])


def events(incident, kind="escalated"):
    return [e.summary for e in timeline(incident) if e.kind == kind]


@pytest.mark.django_db
def test_first_step_pages_at_once_and_the_next_only_after_its_delay(two_steps, payments, alice, bob):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    assert paged() == ["bob"]
    sweep(now=minutes(9))
    assert paged() == ["bob"], "the second step waits for its delay"
    sweep(now=minutes(10))
    assert paged() == ["bob", "alice"]
    assert events(incident)[:2] == ["Step 1: paged Bob Baker (Bob Baker)", "Step 2: paged Alice Archer (leads of Payments)"]


@pytest.mark.django_db
def test_the_page_carries_a_one_click_link_and_the_incident(two_steps, payments, alice):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    body = mail.outbox[0].body
    assert incident.number in mail.outbox[0].subject
    assert "/paging/ack/" in body and f"/incidents/{incident.number}/" in body


@pytest.mark.django_db
def test_repeat_runs_the_list_again_then_stops(payments, alice, bob):
    policy(payments, [step(5, ("user", bob.pk)), step(5, ("user", alice.pk))], repeat=1)
    incident = declare(payments, by=alice)
    for m in (0, 5, 10, 15, 20, 25, 30):
        sweep(now=minutes(m))
    assert paged() == ["bob", "alice", "bob", "alice"]
    run = EscalationRun.objects.get(incident=incident)
    assert run.state == EscalationRun.State.EXHAUSTED and run.next_step_at is None
    assert "Step 1 (repeat 1): paged Bob Baker (Bob Baker)" in events(incident)
    assert any("ran out of steps" in e for e in events(incident))


@pytest.mark.django_db
def test_acknowledge_mid_run_stops_the_next_step(two_steps, payments, alice, bob):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    run = EscalationRun.objects.get(incident=incident)
    token = run.token
    transition_incident(incident=incident, transition="acknowledge", by=bob, now=minutes(3))
    # The task queued for step 2 still arrives at its time, and a sweep runs: neither pages.
    assert advance_escalation(run.pk, token, now=minutes(10)) is False
    sweep(now=minutes(30))
    assert paged() == ["bob"]
    run.refresh_from_db()
    assert run.state == EscalationRun.State.ACKNOWLEDGED and run.stopped_by == bob


@pytest.mark.django_db
def test_resolve_mid_run_stops_it_and_the_overdue_notice(two_steps, payments, alice, bob):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    transition_incident(incident=incident, transition="resolve", by=bob, now=minutes(2))
    sweep(now=timedelta(days=1) + T0)
    assert paged() == ["bob"]
    run = EscalationRun.objects.get(incident=incident)
    assert run.state == EscalationRun.State.RESOLVED and run.resolve_due_at is None


@pytest.mark.django_db
def test_reopen_starts_a_new_run_from_the_first_step(two_steps, payments, alice, bob):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    transition_incident(incident=incident, transition="resolve", by=bob, now=minutes(2))
    transition_incident(incident=incident, transition="reopen", by=bob, now=minutes(60))
    sweep(now=minutes(60))
    assert paged() == ["bob", "bob"]
    runs = EscalationRun.objects.filter(incident=incident).order_by("started_at")
    assert [r.state for r in runs] == [EscalationRun.State.RESOLVED, EscalationRun.State.ACTIVE]


@pytest.mark.django_db
def test_a_step_reaching_nobody_falls_through_and_says_so(payments, alice, bob):
    # A rotation with its only participant deactivated: nobody is on call.
    gone = UserFactory(username="gone")
    MembershipFactory(team=payments, user=gone)
    rotation = create_rotation(team=payments, name="Primary", participants=[gone], shift_length="P7D",
                               handoff_at=(T0 - timedelta(days=1)).replace(tzinfo=None), timezone="UTC")
    gone.is_active = False
    gone.save()
    policy(payments, [step(10, ("rotation", rotation.pk)), step(10, ("user", bob.pk))])
    incident = declare(payments, by=alice)
    sweep(now=T0)
    assert paged() == ["bob"], "the empty step falls through to the next at once"
    summaries = events(incident)
    assert summaries[0].startswith("Step 1 reaches nobody") and "falling through" in summaries[0]
    assert summaries[1].startswith("Step 2: paged Bob Baker")


@pytest.mark.django_db
def test_the_rotation_target_pages_whoever_is_on_call_overrides_included(payments, alice, bob):
    from oncall.services.schedules import create_override
    rotation = create_rotation(team=payments, name="Primary", participants=[bob], shift_length="P7D",
                               handoff_at=(T0 - timedelta(days=1)).replace(tzinfo=None), timezone="UTC")
    create_override(rotation=rotation, user=alice, start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1), by=alice)
    policy(payments, [step(10, ("rotation", rotation.pk))])
    declare(payments, by=alice)
    sweep(now=T0)
    assert paged() == ["alice"]


@pytest.mark.django_db
def test_editing_the_policy_does_not_change_a_run_in_flight(two_steps, payments, alice, bob, dave):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    two_steps.steps = [step(10, ("user", bob.pk)), step(10, ("user", dave.pk))]
    two_steps.save()
    sweep(now=minutes(10))
    assert paged() == ["bob", "alice"], "the run follows the policy as it was when it started"
    assert EscalationRun.objects.get(incident=incident).policy_name == "Payments escalation"


@pytest.mark.django_db
def test_missing_the_acknowledge_target_escalates_at_once_and_is_on_the_timeline(payments, alice, bob):
    sev = Severity.objects.get(name="SEV2")
    sev.acknowledge_target = timedelta(minutes=4)
    sev.save()
    policy(payments, [step(30, ("user", bob.pk)), step(30, ("user", alice.pk))])
    incident = declare(payments, by=alice)
    sweep(now=T0)
    sweep(now=minutes(3))
    assert paged() == ["bob"]
    sweep(now=minutes(4))
    assert paged() == ["bob", "alice"], "the breach moves to the next step without waiting 30 minutes"
    assert any(e.startswith("Not acknowledged within 4 minutes (SEV2 target)") for e in events(incident))


@pytest.mark.django_db
def test_passing_the_resolve_target_tells_leads_and_managers_once(two_steps, payments, alice, bob, dave):
    sev = Severity.objects.get(name="SEV2")
    incident = declare(payments, by=alice)
    transition_incident(incident=incident, transition="acknowledge", by=bob, now=minutes(1))
    sweep(now=T0 + sev.resolve_target - timedelta(minutes=1))
    assert Notification.objects.filter(kind="overdue").count() == 0
    sweep(now=T0 + sev.resolve_target)
    sweep(now=T0 + sev.resolve_target + timedelta(hours=1))
    overdue = [m for m in mail.outbox if m.subject.startswith("[Overdue]")]
    assert sorted(m.to[0] for m in overdue) == ["alice@example.com", "dave@example.com"]
    assert any("Not resolved within" in e for e in events(incident))


@pytest.mark.django_db
def test_a_stale_or_duplicate_task_pages_nobody_twice(two_steps, payments, alice, bob):
    incident = declare(payments, by=alice)
    run = EscalationRun.objects.get(incident=incident)
    first = run.token
    assert advance_escalation(run.pk, first, now=T0) is True
    assert advance_escalation(run.pk, first, now=T0) is False, "the same task delivered twice"
    assert advance_escalation(run.pk, None, now=T0) is False, "the sweep: the next step is not due"
    sweep(now=T0)
    assert paged() == ["bob"]
    assert Notification.objects.filter(run=run).count() == 1


@pytest.mark.django_db
def test_delayed_rules_go_out_only_while_unacknowledged(two_steps, payments, alice, bob):
    sms = ContactMethod.objects.create(user=bob, kind="email", address="bob-pager@example.com", verified_at=T0)
    NotificationRule.objects.create(user=bob, urgency="high", contact_method=sms, delay_minutes=2)
    incident = declare(payments, by=alice)
    sweep(now=T0)
    assert [m.to[0] for m in mail.outbox] == ["bob@example.com"]
    transition_incident(incident=incident, transition="acknowledge", by=bob, now=minutes(1))
    sweep(now=minutes(2))
    assert [m.to[0] for m in mail.outbox] == ["bob@example.com"], "acknowledged before the 2-minute rule"
    assert Notification.objects.get(address="bob-pager@example.com").status == Notification.Status.CANCELLED


@pytest.mark.django_db
def test_unverified_methods_are_never_used_for_pages(two_steps, payments, alice, bob):
    unverified = ContactMethod.objects.create(user=bob, kind="email", address="bob-new@example.com")
    NotificationRule.objects.create(user=bob, urgency="high", contact_method=unverified, delay_minutes=0)
    declare(payments, by=alice)
    sweep(now=T0)
    assert [m.to[0] for m in mail.outbox] == ["bob@example.com"]


@pytest.mark.django_db
def test_low_urgency_waits_for_working_hours_when_asked(payments, alice, bob):
    bob.timezone = "Europe/Berlin"
    bob.save()
    policy(payments, [step(10, ("user", bob.pk))])
    # Saturday 03:00 in Berlin; bob works Mon–Fri 09:00–17:00.
    saturday = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    PagingProfile.objects.create(user=bob, hold_low_urgency=True, work_days=[0, 1, 2, 3, 4],
                                 work_start=time(9), work_end=time(17))
    declare(payments, severity="SEV3", by=alice, at=saturday)
    sweep(now=saturday)
    assert paged() == []
    monday_0800_utc = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    sweep(now=monday_0800_utc - timedelta(minutes=1))
    assert paged() == []
    sweep(now=monday_0800_utc)
    assert paged() == ["bob"]


@pytest.mark.django_db
def test_high_urgency_ignores_working_hours(payments, alice, bob):
    policy(payments, [step(10, ("user", bob.pk))])
    saturday = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    PagingProfile.objects.create(user=bob, hold_low_urgency=True, work_days=[0], work_start=time(9), work_end=time(17))
    declare(payments, severity="SEV1", by=alice, at=saturday)
    sweep(now=saturday)
    assert paged() == ["bob"]


@pytest.mark.django_db
def test_with_no_policy_the_team_primary_layer_then_leads_are_paged(payments, alice, bob):
    create_rotation(team=payments, name="Primary", participants=[bob], shift_length="P7D",
                    handoff_at=(T0 - timedelta(days=1)).replace(tzinfo=None), timezone="UTC")
    incident = declare(payments, by=alice)
    sweep(now=T0)
    sweep(now=minutes(15))
    assert paged() == ["bob", "alice"]
    assert EscalationRun.objects.get(incident=incident).policy_name.startswith("Team fallback")


@pytest.mark.django_db
def test_the_policy_is_the_services_for_the_severity_then_its_default_then_the_teams(payments, alice, bob):
    team_default = policy(payments, [step(10, ("user", alice.pk))], name="Team default")
    service_default = policy(payments, [step(10, ("user", bob.pk))], default=False, name="Service default")
    sev1_only = policy(payments, [step(10, ("user", bob.pk))], default=False, name="SEV1 policy")
    plain = ServiceFactory(team=payments, slug="plain", name="A plain service")
    special = ServiceFactory(team=payments, slug="special", name="B special service", escalation_policy=service_default)
    SeverityPolicy.objects.create(service=special, severity=Severity.objects.get(name="SEV1"), policy=sev1_only)
    assert policy_for(declare(payments, services=[plain], by=alice)) == team_default
    assert policy_for(declare(payments, services=[plain, special], by=alice)) == service_default
    assert policy_for(declare(payments, severity="SEV1", services=[plain, special], by=alice)) == sev1_only


@pytest.mark.django_db
def test_paged_people_from_another_team_become_responders_and_may_work_it(payments, alice, charlie):
    policy(payments, [step(10, ("user", charlie.pk))])
    incident = declare(payments, by=alice)
    sweep(now=T0)
    assert paged() == ["charlie"]
    from incidents.models import Incident
    assert Incident.objects.visible_to(charlie).filter(pk=incident.pk).exists()
    transition_incident(incident=incident, transition="acknowledge", by=charlie, now=minutes(1))
    incident.refresh_from_db()
    assert incident.status == "acknowledged"


@pytest.mark.django_db
def test_a_severity_change_does_not_restart_the_run(two_steps, payments, alice, bob):
    incident = declare(payments, by=alice)
    sweep(now=T0)
    update_incident(incident=incident, by=alice, severity=Severity.objects.get(name="SEV1"))
    sweep(now=minutes(1))
    assert paged() == ["bob"]
    assert EscalationRun.objects.filter(incident=incident).count() == 1


@pytest.mark.django_db
def test_the_advance_task_sends_its_steps_pages_itself_once_it_commits(
        two_steps, payments, alice, bob, django_capture_on_commit_callbacks):
    from paging.services.notify import delivering_inline

    incident = declare(payments, by=alice)
    run = EscalationRun.objects.get(incident=incident)
    with django_capture_on_commit_callbacks(execute=True), delivering_inline():
        assert advance_escalation(run.pk, run.token, now=T0) is True
        assert paged() == [], "nothing is sent before the step's transaction commits"
    assert paged() == ["bob"], "sent by the advance itself, with no delivery task and no sweep"
    assert Notification.objects.get(run=run).status == Notification.Status.SENT
