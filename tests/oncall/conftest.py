"""On-call fixtures: one more payments member in New York, and a rotation helper."""

from datetime import datetime

import pytest

from oncall.models import Membership
from oncall.services import create_rotation
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def nora(payments):
    """A payments member working from New York (the other half of follow-the-sun)."""
    user = UserFactory(username="nora", full_name="Nora North", timezone="America/New_York")
    MembershipFactory(team=payments, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def make_rotation(payments):
    def make(*, participants, shift_length="P7D", handoff_at="2026-03-02T09:00", timezone="Europe/Berlin",
             name=None, layer="primary", team=None, **kwargs):
        team = team or payments
        return create_rotation(
            team=team, name=name or f"{layer} {shift_length} {handoff_at}", layer=layer,
            participants=list(participants), shift_length=shift_length,
            handoff_at=datetime.fromisoformat(handoff_at), timezone=timezone, **kwargs,
        )

    return make

