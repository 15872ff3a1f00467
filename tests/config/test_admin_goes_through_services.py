"""The admin writes through the services, or not at all.

Every ModelAdmin of a Vigil app is walked. For each of add, change and delete, a
superuser is either refused (the admin's page answers 403, and a bulk delete is not
offered) or the write goes through a service: each such write is done here through
the admin's own pages, and the service is seen called by the acting admin, with the
history row it writes (who, and why) where the model keeps history. A plain
``obj.save()`` would record the user too (simple-history's middleware), so the
reason and the service call are the proof. A few writes are plain saves on purpose;
``PLAIN_SAVES`` lists them with the reason. Incidents, notes, alerts and history
rows are never deleted, and no version is restored from the History page.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

import alerts.services.integrations as integration_services
import comms.services as comms_services
import comms.subscribers as subscriber_services
import incidents.services as incident_services
import oncall.services as oncall_services
import postmortems.services as postmortem_services
from alerts.models import Alert, AlertGroup, Integration
from alerts.services import AlertEvent, create_integration, ingest_event
from comms.models import CommTemplate, Component, StatusSubscriber
from incidents.models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Incident,
    MaintenanceWindow,
    Note,
    Responder,
    RoleAssignment,
    Service,
    Severity,
    SeverityPolicy,
    StatusUpdate,
)
from incidents.services import add_note, assign_role, create_maintenance_window, post_status_update
from oncall.models import (
    CalendarToken,
    EscalationPolicy,
    HandoffNote,
    HandoffNotice,
    Membership,
    Override,
    Rotation,
    RotationParticipant,
    ShiftReminder,
    SwapRequest,
    Team,
    User,
)
from oncall.services import (
    calendar_token_for,
    create_override,
    create_policy,
    create_rotation,
    request_swap,
    write_handoff_note,
)
from paging.models import (
    ContactMethod,
    EscalationRun,
    Notification,
    NotificationRule,
    PagingEvent,
    PagingProfile,
    Subscription,
)
from paging.services.escalation import sweep
from paging.services.subscriptions import subscribe
from postmortems.models import (
    ActionItem,
    ContributingFactor,
    FactorTag,
    IssueTracker,
    Postmortem,
    PostmortemEvent,
    PostmortemPolicy,
    ReminderDigest,
    Review,
    ReviewMeeting,
)
from postmortems.services import trackers as tracker_services
from postmortems.services.trackers import create_tracker
from tests.factories import ensure_severities, make_incident, severity

pytestmark = pytest.mark.django_db

VIGIL_APPS = {"core", "oncall", "incidents", "alerts", "paging", "comms", "postmortems", "reporting", "demo"}
OPERATIONS = ("add", "change", "delete")

# Writes the admin makes with a plain save, on purpose, and why.
PLAIN_SAVES = {
    "incidents.Severity": {
        op: "reference rows (name, rank, targets) that only staff edit, here: no history, no team, nothing "
            "listens; incidents PROTECT theirs and the last one cannot go (SeverityAdmin)"
        for op in OPERATIONS
    },
    **{label: {"delete": "a severity's checklist (reference rows, no history, nothing listens) goes with "
                         "the severity; incidents keep their own copies of the items"}
       for label in ("incidents.ChecklistTemplate", "incidents.ChecklistTemplateItem")},
    "oncall.User": {
        "change": "Django's own account form (password, staff flag, groups, permissions): a person has no "
                  "history and nothing listens to these fields; creating one is create_user (it invites them)",
    },
    "postmortems.PostmortemPolicy": {
        op: "reference rows (per severity: required, due hours) that only staff edit, as severities: no history, "
            "no team, nothing listens; a severity without one follows the defaults"
        for op in OPERATIONS
    },
}

# Never deleted from the admin, in bulk or one by one.
NEVER_DELETED = ["incidents.Incident", "incidents.Note", "incidents.StatusUpdate", "incidents.RoleAssignment",
                 "alerts.Alert", "alerts.AlertGroup"]
NEVER_DELETED += ["postmortems.Postmortem", "postmortems.ActionItem"]


@pytest.fixture
def world(payments, search_team, alice, bob, charlie, sam, checkout):
    """One row of every model the admin shows."""
    ensure_severities()
    now = timezone.now()
    incident = make_incident(team=payments, by=alice, services=[checkout])
    add_note(incident=incident, body="Rolled back", by=alice)
    post_status_update(incident=incident, state="investigating", body="Looking", by=alice)
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    rotation = create_rotation(team=payments, name="Primary", participants=[alice, bob], shift_length="P7D",
                               handoff_at=datetime(2026, 3, 2, 9), timezone="Europe/Berlin", by=alice)
    create_override(rotation=rotation, user=bob, start=now + timedelta(days=1), end=now + timedelta(days=2),
                    by=alice, reason="dentist")
    request_swap(rotation=rotation, requester=bob, recipient=alice, start=now + timedelta(days=3),
                 end=now + timedelta(days=4))
    calendar_token_for(user=alice)
    write_handoff_note(rotation=rotation, author=alice, body="Watch the ledger")
    HandoffNotice.objects.create(rotation=rotation, handoff_at=now, outgoing=alice, incoming=bob, sent_at=now)
    ShiftReminder.objects.create(rotation=rotation, user=bob, shift_start_at=now, sent_at=now)
    create_maintenance_window(service=checkout, starts_at=now + timedelta(days=9), ends_at=now + timedelta(days=10),
                              by=alice)
    create_policy(team=payments, name="SEV1", steps=[{"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}]}],
                  by=alice)
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    ingest_event(integration=integration, event=AlertEvent(action="trigger", dedup_key="k", summary="Disk full"))
    SeverityPolicy.objects.create(service=checkout, severity=Severity.objects.get(name="SEV1"),
                                  policy=EscalationPolicy.objects.get())
    sweep(now=timezone.now())  # the incidents' escalations page their first step: runs, notifications, timeline events
    subscribe(user=bob, team=payments, min_severity=Severity.objects.get(name="SEV2"), by=bob)
    PagingProfile.objects.create(user=bob, hold_low_urgency=True)
    comms_services.create_component(team=payments, name="Checkout", services=[checkout], by=alice)
    StatusSubscriber.objects.create(email="reader@example.com", team=payments, created_at=timezone.now())
    models = [CommTemplate, Component, StatusSubscriber, Incident, Note, StatusUpdate, RoleAssignment, Rotation, RotationParticipant, Override, SwapRequest,
              CalendarToken, HandoffNote, HandoffNotice, ShiftReminder, MaintenanceWindow, Integration, Alert,
              AlertGroup, Membership, Team, User, Service, Severity, EscalationPolicy,
              Responder, ContactMethod, NotificationRule, EscalationRun, Notification, PagingEvent,
              PagingProfile, Subscription,
              ChecklistTemplate, ChecklistTemplateItem, ChecklistItem]  # paging: read-only (every person has their account e-mail and rules)
    # Postmortems: a resolved SEV1's, with a factor, a reviewer and an action item; the seeded policies and tags.
    sev1 = make_incident(team=payments, by=alice, sev="SEV1", title="Card payments down")
    incident_services.transition_incident(incident=sev1, transition="resolve", by=alice)
    postmortem = Postmortem.objects.get(incident=sev1)
    postmortem_services.add_factor(postmortem=postmortem, tag=FactorTag.objects.filter(team=None).first(), by=alice)
    postmortem_services.request_review(postmortem=postmortem, reviewers=[bob], by=alice)
    postmortem_services.create_action_item(incident=sev1, by=alice, title="Alert on certificate expiry", owner=bob)
    models += [PostmortemPolicy, FactorTag, Postmortem, Review, ContributingFactor, PostmortemEvent, ActionItem]
    create_tracker(team=payments, by=alice, name="Payments repo", kind="github", base_url="https://api.github.com",
                   project="acme/payments", token="ghp_world")
    models += [IssueTracker]
    postmortem_services.schedule_meeting(postmortem=postmortem, starts_at=now + timedelta(days=1), attendees=[bob],
                                         by=alice)
    ReminderDigest.objects.create(user=bob, day=now.date(), sent_at=now, action_items=1)
    models += [ReviewMeeting, ReminderDigest]
    return {model: model._default_manager.order_by("pk").first() for model in models}


@pytest.fixture
def staff_client(sam):
    client = Client(raise_request_exception=False)
    client.force_login(sam)
    return client


def _vigil_admins():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in VIGIL_APPS]


def _granted(model_admin, user, obj) -> set[str]:
    request = type("Request", (), {"user": user, "method": "GET", "GET": {}, "POST": {}})()
    return {op for op, allowed in (
        ("add", model_admin.has_add_permission(request)),
        ("change", model_admin.has_change_permission(request, obj)),
        ("delete", model_admin.has_delete_permission(request, obj)),
    ) if allowed}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _spy(monkeypatch, module, name: str) -> list[dict]:
    """Record the keyword arguments of every call of ``module.name`` (the admin calls services by module).

    ``"pk"`` holds the primary keys of the model instances passed, as they were at the call (a delete clears them).
    """
    calls: list[dict] = []
    real = getattr(module, name)

    def recording(*args, **kwargs):
        calls.append({**kwargs, "pk": {key: getattr(value, "pk", None) for key, value in kwargs.items()}})
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return calls


def _split(at: datetime, name: str) -> dict:
    """The admin's split date/time widget, in the admin's zone (UTC)."""
    at = timezone.localtime(at)
    return {f"{name}_0": at.strftime("%Y-%m-%d"), f"{name}_1": at.strftime("%H:%M:%S")}


def _management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def _saved(response) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]


# --- What each write through a service looks like, done through the admin's pages --------------------------

@dataclass
class Ctx:
    client: Client
    world: dict
    sam: User
    monkeypatch: pytest.MonkeyPatch

    def spy(self, module, name: str) -> list[dict]:
        return _spy(self.monkeypatch, module, name)


def _last_history(model, **lookup):
    """The newest history row of ``model`` matching ``lookup`` (``id`` is the object's; ``pk`` the row's own)."""
    return model.history.filter(**lookup).order_by("history_date", "history_id").last()


def _user_add(ctx: Ctx):
    calls = ctx.spy(oncall_services, "create_user")
    _saved(ctx.client.post(_url(User, "add"), {
        "username": "dora", "email": "dora@example.com", "full_name": "Dora Diaz", "timezone": "Europe/Madrid",
        "usable_password": "false", "password1": "", "password2": "",
    }))
    assert [(c["username"], c["by"]) for c in calls] == [("dora", ctx.sam)]
    dora = User.objects.get(username="dora")
    assert (dora.full_name, dora.timezone, dora.has_usable_password()) == ("Dora Diaz", "Europe/Madrid", False)


def _team_add(ctx: Ctx):
    teams, members = ctx.spy(oncall_services, "create_team"), ctx.spy(oncall_services, "set_membership")
    bob = User.objects.get(username="bob")
    _saved(ctx.client.post(_url(Team, "add"), {
        "slug": "billing", "name": "Billing", "timezone": "Europe/Dublin", "description": "",
        **_management("memberships", total=1), "memberships-0-user": bob.pk, "memberships-0-role": "lead",
    }))
    billing = Team.objects.get(slug="billing")
    assert [(c["slug"], c["by"]) for c in teams] == [("billing", ctx.sam)]
    assert [(c["team"], c["user"], c["role"], c["by"]) for c in members] == [(billing, bob, "lead", ctx.sam)]
    row = _last_history(Membership, team=billing, user=bob)
    assert (row.history_type, row.history_user, row.role) == ("+", ctx.sam, "lead")


def _team_change(ctx: Ctx):
    updates, members = ctx.spy(oncall_services, "update_team"), ctx.spy(oncall_services, "set_membership")
    removals = ctx.spy(oncall_services, "remove_membership")
    payments, charlie = Team.objects.get(slug="payments"), User.objects.get(username="charlie")
    rows = list(Membership.objects.filter(team=payments))
    data = {"name": "Payments EU", "timezone": "Europe/Berlin", "description": "",
            **_management("memberships", total=len(rows) + 1, initial=len(rows))}
    for i, membership in enumerate(rows):
        data |= {f"memberships-{i}-id": membership.pk, f"memberships-{i}-team": payments.pk,
                 f"memberships-{i}-user": membership.user_id, f"memberships-{i}-role": membership.role}
        if membership.user.username == "bob":
            data[f"memberships-{i}-DELETE"] = "on"
    data |= {f"memberships-{len(rows)}-user": charlie.pk, f"memberships-{len(rows)}-role": "member"}
    _saved(ctx.client.post(_url(Team, "change", payments.pk), data))
    assert [(c["name"], c["by"]) for c in updates] == [("Payments EU", ctx.sam)]
    assert [(c["membership"].user.username, c["by"]) for c in removals] == [("bob", ctx.sam)]
    assert [(c["user"], c["by"]) for c in members] == [(charlie, ctx.sam)]
    assert _last_history(Membership, team=payments, user__username="bob").history_user == ctx.sam
    assert set(payments.members.values_list("username", flat=True)) == {"alice", "charlie"}


def _membership_add(ctx: Ctx):
    calls = ctx.spy(oncall_services, "set_membership")
    search, bob = Team.objects.get(slug="search"), User.objects.get(username="bob")
    _saved(ctx.client.post(_url(Membership, "add"), {"team": search.pk, "user": bob.pk, "role": "member"}))
    assert [(c["team"], c["user"], c["by"]) for c in calls] == [(search, bob, ctx.sam)]
    assert _last_history(Membership, team=search, user=bob).history_user == ctx.sam


def _membership_change(ctx: Ctx):
    calls = ctx.spy(oncall_services, "set_membership")
    bob = Membership.objects.get(user__username="bob", team__slug="payments")
    _saved(ctx.client.post(_url(Membership, "change", bob.pk), {"role": "manager"}))
    assert [(c["role"], c["by"]) for c in calls] == [("manager", ctx.sam)]
    row = _last_history(Membership, id=bob.pk)
    assert (row.history_type, row.role, row.history_user) == ("~", "manager", ctx.sam)


def _membership_delete(ctx: Ctx):
    calls = ctx.spy(oncall_services, "remove_membership")
    bob = Membership.objects.get(user__username="bob", team__slug="payments")
    _saved(ctx.client.post(_url(Membership, "delete", bob.pk), {"post": "yes"}))
    alice = Membership.objects.get(user__username="alice", team__slug="payments")
    _saved(ctx.client.post(_url(Membership, "changelist"), {
        "action": "delete_selected", "_selected_action": [alice.pk], "post": "yes"}))
    assert [(c["pk"]["membership"], c["by"]) for c in calls] == [(bob.pk, ctx.sam), (alice.pk, ctx.sam)]
    assert not Membership.objects.filter(team__slug="payments").exists()
    for pk in (bob.pk, alice.pk):
        row = _last_history(Membership, id=pk)
        assert (row.history_type, row.history_user) == ("-", ctx.sam)


def _rotation_change(ctx: Ctx):
    calls = ctx.spy(oncall_services, "update_rotation")
    rotation = ctx.world[Rotation]
    _saved(ctx.client.post(_url(Rotation, "change", rotation.pk), {
        "name": "Primary (EU)", "layer": "primary", "shift_count": "2", "shift_unit": "weeks",
        "handoff_date": "2026-03-02", "handoff_time": "10:00:00", "timezone": "Europe/Berlin",
        "ends_at_0": "", "ends_at_1": "", "restrictions": "[]", **_management("participants"),
    }))
    assert [(c["name"], c["shift_length"], c["handoff_at"], c["by"]) for c in calls] == [
        ("Primary (EU)", "P2W", datetime(2026, 3, 2, 10), ctx.sam)]
    row = _last_history(Rotation, id=rotation.pk)
    assert (row.name, row.history_user, row.history_change_reason) == ("Primary (EU)", ctx.sam, "changed in the admin")


def _override_add(ctx: Ctx):
    calls = ctx.spy(oncall_services, "create_override")
    rotation, bob = ctx.world[Rotation], User.objects.get(username="bob")
    start = timezone.now().replace(microsecond=0) + timedelta(days=5)
    _saved(ctx.client.post(_url(Override, "add"), {
        "rotation": rotation.pk, "user": bob.pk, **_split(start, "start_at"),
        **_split(start + timedelta(hours=8), "end_at"), "reason": "covering a flight",
    }))
    assert [(c["user"], c["start"], c["by"]) for c in calls] == [(bob, start, ctx.sam)]
    row = _last_history(Override, reason="covering a flight")
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", ctx.sam, "covering a flight")


def _override_delete(ctx: Ctx):
    calls = ctx.spy(oncall_services, "delete_override")
    rotation, bob = ctx.world[Rotation], User.objects.get(username="bob")
    first = ctx.world[Override]
    now = timezone.now()
    second = create_override(rotation=rotation, user=bob, start=now + timedelta(days=6), end=now + timedelta(days=7))
    _saved(ctx.client.post(_url(Override, "delete", first.pk), {"post": "yes"}))
    _saved(ctx.client.post(_url(Override, "changelist"), {
        "action": "delete_selected", "_selected_action": [second.pk], "post": "yes"}))
    assert [(c["pk"]["override"], c["by"]) for c in calls] == [(first.pk, ctx.sam), (second.pk, ctx.sam)]
    for pk in (first.pk, second.pk):
        row = _last_history(Override, id=pk)
        assert (row.history_type, row.history_user) == ("-", ctx.sam)


POLICY_STEPS = '[{"delay_minutes": 10, "targets": [{"type": "user", "id": "bob"}, {"type": "team_leads"}]}]'


def _policy_add(ctx: Ctx):
    calls = ctx.spy(oncall_services, "create_policy")
    payments = Team.objects.get(slug="payments")
    _saved(ctx.client.post(_url(EscalationPolicy, "add"), {
        "team": payments.pk, "name": "SEV2", "description": "", "steps_json": POLICY_STEPS, "repeat": 1,
        "default": "on"}))
    assert [(c["name"], c["is_default"], c["by"]) for c in calls] == [("SEV2", True, ctx.sam)]
    policy = EscalationPolicy.objects.get(name="SEV2")
    bob = User.objects.get(username="bob")
    assert policy.steps == [{"delay_minutes": 10, "targets": [{"type": "user", "id": bob.pk},
                                                              {"type": "team_leads", "id": payments.pk}]}]
    row = _last_history(EscalationPolicy, name="SEV2")
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+", ctx.sam, "created as the team's default")


def _policy_change(ctx: Ctx):
    calls = ctx.spy(oncall_services, "update_policy")
    policy = ctx.world[EscalationPolicy]
    _saved(ctx.client.post(_url(EscalationPolicy, "change", policy.pk), {
        "name": "SEV1 loud", "description": "", "steps_json": POLICY_STEPS, "repeat": 2}))
    assert [(c["name"], c["repeat"], c["by"]) for c in calls] == [("SEV1 loud", 2, ctx.sam)]
    row = _last_history(EscalationPolicy, id=policy.pk)
    assert (row.name, row.history_user, row.history_change_reason) == ("SEV1 loud", ctx.sam, "changed in the admin")
    # A step the service cannot use is shown on the form, and nothing is written.
    response = ctx.client.post(_url(EscalationPolicy, "change", policy.pk), {
        "name": "SEV1", "description": "", "repeat": 0,
        "steps_json": '[{"delay_minutes": 5, "targets": [{"type": "user", "id": "zed"}]}]'})
    assert response.status_code == 200
    assert "Step 1, target 1: no user &#x27;zed&#x27;; give a username." in response.content.decode()
    assert EscalationPolicy.objects.get(pk=policy.pk).name == "SEV1 loud"


def _policy_delete(ctx: Ctx):
    calls = ctx.spy(oncall_services, "delete_policy")
    first = ctx.world[EscalationPolicy]
    second = create_policy(team=first.team, name="Spare", steps=[{"delay_minutes": 5, "targets": [{"type": "team"}]}],
                           by=None)
    _saved(ctx.client.post(_url(EscalationPolicy, "delete", first.pk), {"post": "yes"}))
    _saved(ctx.client.post(_url(EscalationPolicy, "changelist"), {
        "action": "delete_selected", "_selected_action": [second.pk], "post": "yes"}))
    assert [(c["pk"]["policy"], c["by"]) for c in calls] == [(first.pk, ctx.sam), (second.pk, ctx.sam)]
    for pk in (first.pk, second.pk):
        row = _last_history(EscalationPolicy, id=pk)
        assert (row.history_type, row.history_user, row.history_change_reason) == ("-", ctx.sam, "deleted")


SERVICE_FIELDS = {"description": "", "runbook_url": "", "runbook": ""}


def _service_add(ctx: Ctx):
    calls = ctx.spy(incident_services, "create_service")
    payments = Team.objects.get(slug="payments")
    _saved(ctx.client.post(_url(Service, "add"), {"slug": "ledger", "name": "Ledger", "team": payments.pk,
                                                   **SERVICE_FIELDS}))
    assert [(c["slug"], c["by"]) for c in calls] == [("ledger", ctx.sam)]
    row = _last_history(Service, slug="ledger")
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", ctx.sam, "created")


def _service_change(ctx: Ctx):
    calls = ctx.spy(incident_services, "update_service")
    checkout = ctx.world[Service]
    _saved(ctx.client.post(_url(Service, "change", checkout.pk), {
        "slug": checkout.slug, "name": "Checkout (EU)", "team": checkout.team_id, **SERVICE_FIELDS}))
    assert [(c["name"], c["by"]) for c in calls] == [("Checkout (EU)", ctx.sam)]
    row = _last_history(Service, id=checkout.pk)
    assert (row.name, row.history_user, row.history_change_reason) == ("Checkout (EU)", ctx.sam, "changed in the admin")


def _incident_form(**fields) -> dict:
    return {
        "title": "Declared by an admin", "description": "", "severity": severity("SEV3").pk, "category": "other",
        "services": [], "impact": "", "users_affected": "", "revenue_impact": "", "started_at_0": "",
        "started_at_1": "", **_management("role_assignments"), **_management("notes"), **fields,
    }


def _incident_add(ctx: Ctx):
    calls = ctx.spy(incident_services, "create_incident")
    payments = Team.objects.get(slug="payments")
    _saved(ctx.client.post(_url(Incident, "add"), _incident_form(team=payments.pk)))
    assert [(c["title"], c["by"], c["source"]) for c in calls] == [("Declared by an admin", ctx.sam, "admin")]
    row = _last_history(Incident, title="Declared by an admin")
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", ctx.sam, "Declared via admin")


def _incident_change(ctx: Ctx):
    calls = ctx.spy(incident_services, "update_incident")
    incident = ctx.world[Incident]
    _saved(ctx.client.post(_url(Incident, "change", incident.pk),
                           _incident_form(title="Checkout down in EU", severity=severity("SEV1").pk)))
    assert [(c["incident"].pk, c["title"], c["by"]) for c in calls] == [(incident.pk, "Checkout down in EU", ctx.sam)]
    row = _last_history(Incident, id=incident.pk)
    assert (row.title, row.history_user, row.history_change_reason) == ("Checkout down in EU", ctx.sam, "via admin")


def _window_form(service, starts_at) -> dict:
    return {"service": service.pk, **_split(starts_at, "starts_at"), **_split(starts_at + timedelta(hours=2), "ends_at"),
            "reason": "database upgrade"}


def _window_add(ctx: Ctx):
    calls = ctx.spy(incident_services, "create_maintenance_window")
    starts = timezone.now().replace(microsecond=0) + timedelta(days=20)
    _saved(ctx.client.post(_url(MaintenanceWindow, "add"), _window_form(ctx.world[Service], starts)))
    assert [(c["starts_at"], c["by"]) for c in calls] == [(starts, ctx.sam)]
    assert MaintenanceWindow.objects.get(starts_at=starts).created_by == ctx.sam


def _window_change(ctx: Ctx):
    calls = ctx.spy(incident_services, "update_maintenance_window")
    window = ctx.world[MaintenanceWindow]
    starts = timezone.now().replace(microsecond=0) + timedelta(days=30)
    data = _window_form(window.service, starts)
    del data["service"]  # fixed once planned
    _saved(ctx.client.post(_url(MaintenanceWindow, "change", window.pk), data))
    assert [(c["window"].pk, c["starts_at"], c["by"]) for c in calls] == [(window.pk, starts, ctx.sam)]
    window.refresh_from_db()
    assert window.starts_at == starts


INTEGRATION_FIELDS = {"enabled": "on", "auto_resolve": "on", "severity_map": "{}", "rate_per_second": 60,
                      "burst": 200}


def _integration_add(ctx: Ctx):
    calls = ctx.spy(integration_services, "create_integration")
    _saved(ctx.client.post(_url(Integration, "add"), {
        "service": ctx.world[Service].pk, "kind": "webhook", "name": "From the admin", **INTEGRATION_FIELDS}))
    assert [(c["name"], c["by"]) for c in calls] == [("From the admin", ctx.sam)]
    row = _last_history(Integration, name="From the admin")
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", ctx.sam, "created")


def _integration_change(ctx: Ctx):
    calls = ctx.spy(integration_services, "update_integration")
    integration = ctx.world[Integration]
    _saved(ctx.client.post(_url(Integration, "change", integration.pk), {"name": "PagerDuty", **INTEGRATION_FIELDS}))
    assert [(c["name"], c["by"]) for c in calls] == [("PagerDuty", ctx.sam)]
    row = _last_history(Integration, id=integration.pk)
    assert (row.name, row.history_user, row.history_change_reason) == ("PagerDuty", ctx.sam, "changed name")


def _component_add(ctx: Ctx):
    calls = ctx.spy(comms_services, "create_component")
    checkout = ctx.world[Service]
    _saved(ctx.client.post(_url(Component, "add"), {
        "team": checkout.team_id, "name": "Payments API", "description": "", "services": [checkout.pk],
        "position": 3, "status_override": "", "override_reason": ""}))
    assert [(c["name"], c["services"], c["by"]) for c in calls] == [("Payments API", [checkout], ctx.sam)]
    assert list(Component.objects.get(name="Payments API").services.all()) == [checkout]


def _component_change(ctx: Ctx):
    calls = ctx.spy(comms_services, "update_component")
    component = ctx.world[Component]
    _saved(ctx.client.post(_url(Component, "change", component.pk), {
        "name": "Checkout", "description": "", "services": [], "position": 1,
        "status_override": "major_outage", "override_reason": "provider down"}))
    assert [(c["status_override"], c["services"], c["by"]) for c in calls] == [("major_outage", [], ctx.sam)]
    component.refresh_from_db()
    assert (component.status_override, list(component.services.all())) == ("major_outage", [])


def _subscriber_delete(ctx: Ctx):
    calls = ctx.spy(subscriber_services, "remove_subscriber")
    first = ctx.world[StatusSubscriber]
    second = StatusSubscriber.objects.create(email="other@example.com", created_at=timezone.now())
    _saved(ctx.client.post(_url(StatusSubscriber, "delete", first.pk), {"post": "yes"}))
    _saved(ctx.client.post(_url(StatusSubscriber, "changelist"), {
        "action": "delete_selected", "_selected_action": [second.pk], "post": "yes"}))
    assert [c["pk"]["subscriber"] for c in calls] == [first.pk, second.pk]
    assert not StatusSubscriber.objects.exists()


def _template_add(ctx: Ctx):
    calls = ctx.spy(comms_services, "save_template")
    payments = ctx.world[Service].team
    _saved(ctx.client.post(_url(CommTemplate, "add"), {
        "team": payments.pk, "kind": "update", "subject": "{{ number }}", "body": "Payments: {{ title }}"}))
    assert [(c["team"], c["kind"], c["by"]) for c in calls] == [(payments, "update", ctx.sam)]
    row = _last_history(CommTemplate, team_id=payments.pk, kind="update")
    assert (row.body, row.history_user, row.history_change_reason) == ("Payments: {{ title }}", ctx.sam,
                                                                       "team override added")


def _template_change(ctx: Ctx):
    calls = ctx.spy(comms_services, "save_template")
    org = ctx.world[CommTemplate]  # the organisation's, seeded: edited, never deleted
    _saved(ctx.client.post(_url(CommTemplate, "change", org.pk), {"subject": "", "body": "Hello {{ team }}"}))
    assert [(c["team"], c["kind"], c["by"]) for c in calls] == [(None, org.kind, ctx.sam)]
    row = _last_history(CommTemplate, id=org.pk)
    assert (row.body, row.history_user, row.history_change_reason) == ("Hello {{ team }}", ctx.sam,
                                                                       "changed subject and body")


def _component_delete(ctx: Ctx):
    calls = ctx.spy(comms_services, "delete_component")
    first = ctx.world[Component]
    second = comms_services.create_component(team=first.team, name="Spare", by=None)
    _saved(ctx.client.post(_url(Component, "delete", first.pk), {"post": "yes"}))
    _saved(ctx.client.post(_url(Component, "changelist"), {
        "action": "delete_selected", "_selected_action": [second.pk], "post": "yes"}))
    assert [(c["pk"]["component"], c["by"]) for c in calls] == [(first.pk, ctx.sam), (second.pk, ctx.sam)]
    assert not Component.objects.exists()


def _factor_tag_add(ctx: Ctx):
    calls = ctx.spy(postmortem_services, "create_factor_tag")
    _saved(ctx.client.post(_url(FactorTag, "add"), {"team": "", "name": "Vendor", "description": "A vendor failed"}))
    assert [(c["team"], c["name"], c["by"]) for c in calls] == [(None, "Vendor", ctx.sam)]
    assert FactorTag.objects.get(name="Vendor").team is None


def _factor_tag_change(ctx: Ctx):
    calls = ctx.spy(postmortem_services, "update_factor_tag")
    tag = ctx.world[FactorTag]
    _saved(ctx.client.post(_url(FactorTag, "change", tag.pk), {"name": tag.name, "description": "Retired"}))
    assert [(c["tag"].pk, c["active"], c["by"]) for c in calls] == [(tag.pk, False, ctx.sam)]
    tag.refresh_from_db()
    assert (tag.active, tag.description) == (False, "Retired")


def _tracker_add(ctx: Ctx):
    calls = ctx.spy(tracker_services, "create_tracker")
    payments = Team.objects.get(slug="payments")
    _saved(ctx.client.post(_url(IssueTracker, "add"), {
        "team": payments.pk, "name": "Payments Jira", "kind": "jira", "base_url": "https://acme.atlassian.net",
        "project": "PAY", "username": "bot@acme.example", "token": "jira-token", "active": "on"}))
    assert [(c["team"], c["name"], c["by"]) for c in calls] == [(payments, "Payments Jira", ctx.sam)]
    assert IssueTracker.objects.get(name="Payments Jira").token == "jira-token"


def _tracker_change(ctx: Ctx):
    calls = ctx.spy(tracker_services, "update_tracker")
    tracker = ctx.world[IssueTracker]
    _saved(ctx.client.post(_url(IssueTracker, "change", tracker.pk), {
        "name": "Payments GitHub", "kind": "github", "base_url": tracker.base_url, "project": tracker.project,
        "username": "", "token": "", "active": "on"}))
    assert [(c["tracker"].pk, c["name"], c["by"]) for c in calls] == [(tracker.pk, "Payments GitHub", ctx.sam)]
    tracker.refresh_from_db()
    assert (tracker.name, tracker.token) == ("Payments GitHub", "ghp_world")  # an empty token keeps the stored one
    assert _last_history(IssueTracker, id=tracker.pk).history_user == ctx.sam


def _tracker_delete(ctx: Ctx):
    calls = ctx.spy(tracker_services, "delete_tracker")
    tracker = ctx.world[IssueTracker]
    _saved(ctx.client.post(_url(IssueTracker, "delete", tracker.pk), {"post": "yes"}))
    assert [(c["pk"]["tracker"], c["by"]) for c in calls] == [(tracker.pk, ctx.sam)]
    assert not IssueTracker.objects.filter(pk=tracker.pk).exists()
    assert _last_history(IssueTracker, id=tracker.pk).history_type == "-"


THROUGH_SERVICES = {
    "postmortems.FactorTag": {"add": _factor_tag_add, "change": _factor_tag_change},
    "postmortems.IssueTracker": {"add": _tracker_add, "change": _tracker_change, "delete": _tracker_delete},
    "oncall.User": {"add": _user_add},
    "oncall.Team": {"add": _team_add, "change": _team_change},
    "oncall.Membership": {"add": _membership_add, "change": _membership_change, "delete": _membership_delete},
    "oncall.Rotation": {"change": _rotation_change},
    "oncall.Override": {"add": _override_add, "delete": _override_delete},
    "oncall.EscalationPolicy": {"add": _policy_add, "change": _policy_change, "delete": _policy_delete},
    "incidents.Service": {"add": _service_add, "change": _service_change},
    "incidents.Incident": {"add": _incident_add, "change": _incident_change},
    "incidents.MaintenanceWindow": {"add": _window_add, "change": _window_change},
    "alerts.Integration": {"add": _integration_add, "change": _integration_change},
    "comms.Component": {"add": _component_add, "change": _component_change, "delete": _component_delete},
    # Removing a team's override goes through delete_template too (tests/comms/test_templates.py).
    "comms.CommTemplate": {"add": _template_add, "change": _template_change},
    "comms.StatusSubscriber": {"delete": _subscriber_delete},
}


# --- The walk -----------------------------------------------------------------------------------------------

def test_every_vigil_admin_is_read_only_or_writes_through_a_service(world, sam):
    walked = []
    for model, model_admin in _vigil_admins():
        label = model._meta.label
        granted = _granted(model_admin, sam, world.get(model))
        declared = set(THROUGH_SERVICES.get(label, {})) | set(PLAIN_SAVES.get(label, {}))
        assert granted == declared, (
            f"{label}: the admin lets a superuser {sorted(granted) or 'only look'}, but this test knows "
            f"{sorted(declared) or 'nothing'} of it. Make each write call a service (and add it to THROUGH_SERVICES "
            f"with a check), or refuse it (core.admin), or say in PLAIN_SAVES why a plain save is right."
        )
        walked.append(label)
    # The walk reached every app's admin, not a handful.
    assert {"incidents.Incident", "oncall.Rotation", "alerts.Alert", "oncall.SwapRequest"} <= set(walked)
    assert len(walked) >= 20


@pytest.mark.parametrize(("label", "op"), [(label, op) for label, ops in THROUGH_SERVICES.items() for op in ops])
def test_an_admin_write_calls_its_service_as_the_admin(label, op, world, sam, staff_client, monkeypatch):
    THROUGH_SERVICES[label][op](Ctx(staff_client, world, sam, monkeypatch))


def test_what_an_admin_may_not_do_its_pages_refuse(world, sam, staff_client):
    refused = 0
    for model, model_admin in _vigil_admins():
        obj = world[model]
        granted = _granted(model_admin, sam, obj)
        label = model._meta.label
        if "add" not in granted:
            assert staff_client.get(_url(model, "add")).status_code == 403, label
            assert staff_client.post(_url(model, "add"), {}).status_code == 403, label
            refused += 1
        if "change" not in granted:
            assert staff_client.post(_url(model, "change", obj.pk), {}).status_code == 403, label
            refused += 1
        if "delete" not in granted:
            assert staff_client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, label
            staff_client.post(_url(model, "changelist"),
                              {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
            assert model._default_manager.filter(pk=obj.pk).exists(), label
            refused += 1
    assert refused >= 30, refused


@pytest.mark.parametrize("label", NEVER_DELETED)
def test_incidents_notes_alerts_and_what_they_recorded_are_never_deleted_from_the_admin(
        label, world, sam, staff_client, rf):
    from django.apps import apps

    model = apps.get_model(label)
    obj = world[model]
    request = rf.get("/")
    request.user = sam
    model_admin = admin.site._registry[model]
    assert not model_admin.has_delete_permission(request, obj)
    assert "delete_selected" not in model_admin.get_actions(request)
    assert staff_client.get(_url(model, "delete", obj.pk)).status_code == 403
    assert staff_client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    changelist = staff_client.get(_url(model, "changelist"))
    assert changelist.status_code == 200 and 'value="delete_selected"' not in changelist.content.decode()
    staff_client.post(_url(model, "changelist"),
                      {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_history_rows_are_not_in_the_admin_and_no_version_is_restored_from_it(world, sam, staff_client):
    from django.apps import apps

    historical = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    assert historical, "no history models found: the check below would prove nothing"
    assert not [m for m in historical if admin.site.is_registered(m)]  # so no admin page edits or deletes them
    restored = 0
    for model, model_admin in _vigil_admins():
        if not isinstance(model_admin, SimpleHistoryAdmin):
            continue
        obj = world[model]
        version = obj.history.order_by("history_date").first()
        before = list(obj.history.values_list("history_id", flat=True))
        assert staff_client.get(_url(model, "history", obj.pk)).status_code == 200, model
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_simple_history",
                      args=[obj.pk, version.history_id])
        assert staff_client.post(url, {}).status_code == 403, model
        assert list(obj.history.values_list("history_id", flat=True)) == before, model
        restored += 1
    assert restored >= 6, restored
