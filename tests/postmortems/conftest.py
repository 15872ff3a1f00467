"""Postmortem fixtures: an incident driven through its lifecycle at known instants.

``T0`` is when the incident is declared; impact began 10 min before. Bob (payments) commands it,
acknowledges at T0+4 min, identifies at +15, mitigates at +40 and resolves at +70, so its durations are
known by hand: detect 10 min, acknowledge 4 min, mitigate 40 min, resolve 70 min, impact 80 min.
"""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.services import assign_role, transition_incident
from tests.factories import make_incident

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def drive(incident, *, by, resolve=True, commander=None):
    """Command (``commander``), acknowledge, identify, mitigate and (``resolve``) resolve ``incident`` at the
    module's instants."""
    if commander is not None:
        assign_role(incident=incident, role="commander", user=commander, by=by, now=T0 + MIN)
    incident = transition_incident(incident=incident, transition="acknowledge", by=by, now=T0 + 4 * MIN)
    incident = transition_incident(incident=incident, transition="identify", by=by, now=T0 + 15 * MIN)
    incident = transition_incident(incident=incident, transition="mitigate", by=by, now=T0 + 40 * MIN)
    if resolve:
        incident = transition_incident(incident=incident, transition="resolve", by=by, now=T0 + 70 * MIN)
    return incident


def declare(team, by, sev="SEV1", **kwargs):
    return make_incident(team=team, by=by, sev=sev, now=T0, started_at=T0 - 10 * MIN, **kwargs)


@pytest.fixture
def resolved_sev1(payments, alice, bob, checkout):
    """A SEV1 of payments, commanded by bob, resolved at T0+70 min (its postmortem is due)."""
    incident = declare(payments, alice, "SEV1", services=[checkout], description="Card payments failed.",
                       impact="Nobody could pay by card.", users_affected=1200)
    return drive(incident, by=alice, commander=bob)


@pytest.fixture
def postmortem(resolved_sev1):
    return resolved_sev1.postmortem
