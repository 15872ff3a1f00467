"""Roles are recorded when assigned, replaced and removed; the timeline merges everything."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import RoleAssignment
from incidents.queries import commander_of, incidents_for, timeline
from incidents.services import (
    add_note,
    assign_role,
    post_status_update,
    remove_role,
    transition_incident,
    update_incident,
)
from tests.factories import make_incident, severity

pytestmark = pytest.mark.django_db


def test_assigning_a_single_seat_role_again_replaces_the_holder(payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    assign_role(incident=incident, role="commander", user=bob, by=alice)
    holders = list(RoleAssignment.objects.filter(incident=incident, role="commander").values_list("user__username", flat=True))
    assert holders == ["bob"]
    assert commander_of(incidents_for(alice).get(pk=incident.pk)) == bob


def test_experts_accumulate_and_assigning_twice_changes_nothing(payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    assign_role(incident=incident, role="sme", user=alice, by=alice)
    assign_role(incident=incident, role="sme", user=bob, by=alice)
    assign_role(incident=incident, role="sme", user=bob, by=alice)
    assert RoleAssignment.objects.filter(incident=incident, role="sme").count() == 2
    assert RoleAssignment.history.filter(incident_id=incident.pk).count() == 2


def test_unknown_role_is_refused_with_the_known_ones(payments, alice):
    incident = make_incident(team=payments, by=alice)
    with pytest.raises(ValidationError, match="commander"):
        assign_role(incident=incident, role="captain", user=alice, by=alice)


def test_timeline_merges_history_roles_notes_and_updates_in_time_order(payments, alice, bob):
    t0 = timezone.now() - timedelta(hours=1)
    incident = make_incident(team=payments, by=alice, now=t0)
    assignment = assign_role(incident=incident, role="commander", user=alice, by=alice, now=t0)
    assign_role(incident=incident, role="commander", user=bob, by=alice, now=t0)
    transition_incident(incident=incident, transition="acknowledge", by=bob, note="on it", now=t0)
    add_note(incident=incident, body="Rolled back release 42", by=bob)
    update_incident(incident=incident, by=alice, severity=severity("SEV1"), reason="worse than thought")
    post_status_update(incident=incident, state="identified", body="Fix rolling out", public=True, by=alice)
    assignment.refresh_from_db()
    remove_role(assignment=assignment, by=alice)
    transition_incident(incident=incident, transition="resolve", by=bob)

    events = timeline(incident)
    kinds = [e.kind for e in events]
    assert kinds[0] == "created"
    for kind in ("role_assigned", "status_changed", "note", "field_changed", "status_update", "role_removed"):
        assert kind in kinds
    assert [e.at for e in events] == sorted(e.at for e in events)

    changes = [e for e in events if e.kind == "status_changed"]
    assert [(e.data["from"], e.data["to"], e.actor) for e in changes] == [
        ("triggered", "acknowledged", bob), ("acknowledged", "resolved", bob),
    ]
    assert changes[0].data["note"] == "on it"
    severity_change = next(e for e in events if e.kind == "field_changed")
    assert (severity_change.data["field"], severity_change.data["from"], severity_change.data["to"]) == (
        "severity", "SEV2", "SEV1")
    assert severity_change.actor == alice
    roles = [(e.kind, e.data["user"]) for e in events if e.kind.startswith("role_")]
    assert roles == [("role_assigned", "alice"), ("role_assigned", "bob"), ("role_removed", "bob")]


def test_history_is_kept_for_every_incident_change(payments, alice):
    incident = make_incident(team=payments, by=alice)
    update_incident(incident=incident, by=alice, title="Checkout down in EU")
    transition_incident(incident=incident, transition="resolve", by=alice, note="fixed")
    rows = list(incident.history.order_by("history_date").values_list("history_type", "title", "status"))
    assert rows == [
        ("+", "Checkout is failing", "triggered"),
        ("~", "Checkout down in EU", "triggered"),
        ("~", "Checkout down in EU", "resolved"),
    ]


def test_update_refuses_fields_that_are_not_editable(payments, alice):
    incident = make_incident(team=payments, by=alice)
    with pytest.raises(ValidationError):
        update_incident(incident=incident, by=alice, number="INC-1999-0001")
