"""The incident lifecycle: every legal transition, every illegal one refused."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from incidents import signals
from incidents.models import Incident
from incidents.services import IllegalTransition, allowed_transitions, transition_incident
from tests.factories import make_incident
from tests.incidents.lifecycle_table import ALL, LEGAL, PATH
from tests.incidents.lifecycle_table import incident_in as _incident_in

pytestmark = pytest.mark.django_db



@pytest.mark.parametrize(("source", "name"), sorted(LEGAL))
def test_legal_transition_moves_status_and_stamps_time(source, name, payments, alice):
    incident = _incident_in(source, payments, alice)
    at = timezone.now() + timedelta(minutes=3)
    incident = transition_incident(incident=incident, transition=name, by=alice, note="why", now=at)
    target, stamp = LEGAL[(source, name)]
    incident.refresh_from_db()
    assert incident.status == target
    if stamp:
        assert getattr(incident, stamp) == at
    last = incident.history.latest()
    assert last.history_user == alice
    assert last.history_change_reason == "why"


ILLEGAL = [(s, t) for s in PATH for t in ALL if (s, t) not in LEGAL]


@pytest.mark.parametrize(("source", "name"), ILLEGAL)
def test_illegal_transition_is_refused_with_the_legal_ones(source, name, payments, alice):
    incident = _incident_in(source, payments, alice)
    with pytest.raises(IllegalTransition) as err:
        transition_incident(incident=incident, transition=name, by=alice)
    expected = sorted(t for (s, t) in LEGAL if s == source)
    assert sorted(err.value.allowed) == expected
    incident.refresh_from_db()
    assert incident.status == source


def test_status_cannot_be_assigned_directly(payments, alice):
    incident = make_incident(team=payments, by=alice)
    with pytest.raises(AttributeError):
        incident.status = "resolved"


def test_fsm_method_refuses_illegal_move_even_outside_services(payments, alice):
    incident = make_incident(team=payments, by=alice)
    with pytest.raises(TransitionNotAllowed):
        incident.close(now=timezone.now())


def test_reopen_clears_resolution_but_keeps_first_acknowledgement(payments, alice):
    incident = _incident_in("acknowledged", payments, alice)
    first_ack = incident.acknowledged_at
    incident = transition_incident(incident=incident, transition="resolve", by=alice)
    incident = transition_incident(incident=incident, transition="reopen", by=alice)
    assert incident.resolved_at is None
    assert incident.acknowledged_at == first_ack
    assert allowed_transitions(incident) == ["acknowledge", "resolve"]


def test_acknowledging_again_after_a_reopen_keeps_the_first_acknowledgement(payments, alice, bob):
    t0 = timezone.now() - timedelta(hours=2)
    incident = make_incident(team=payments, by=alice, now=t0)
    transition_incident(incident=incident, transition="acknowledge", by=bob, now=t0 + timedelta(minutes=4))
    transition_incident(incident=incident, transition="resolve", by=bob, now=t0 + timedelta(minutes=30))
    transition_incident(incident=incident, transition="reopen", by=alice, now=t0 + timedelta(minutes=50))
    incident = transition_incident(incident=incident, transition="acknowledge", by=alice,
                                   now=t0 + timedelta(minutes=55))
    assert incident.status == "acknowledged"
    incident.refresh_from_db()
    # MTTA measures the first acknowledgement: 4 minutes, not 55.
    assert incident.acknowledged_at == t0 + timedelta(minutes=4)
    assert incident.resolved_at is None


def test_outsider_cannot_transition(payments, alice, charlie):
    incident = make_incident(team=payments, by=alice)
    with pytest.raises(PermissionDenied):
        transition_incident(incident=incident, transition="acknowledge", by=charlie)
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


def test_resolve_and_reopen_send_signals(payments, alice):
    received = []

    def receiver(sender, incident, by, transition, **kwargs):
        received.append((transition, incident.status, by))

    signals.incident_resolved.connect(receiver)
    signals.incident_reopened.connect(receiver)
    try:
        incident = make_incident(team=payments, by=alice)
        incident = transition_incident(incident=incident, transition="resolve", by=alice)
        transition_incident(incident=incident, transition="reopen", by=None)
    finally:
        signals.incident_resolved.disconnect(receiver)
        signals.incident_reopened.disconnect(receiver)
    assert received == [("resolve", "resolved", alice), ("reopen", "triggered", None)]
