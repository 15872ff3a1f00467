"""Fixtures for the incident cockpit's tests (the paging panel, paging from an incident, ack links,
my pages, the incident paging API). Imported by those modules with ``from tests.paging.cockpit import *``.

- ``platform``: another team, with ``ivan`` its lead (the database expert a payments outage needs);
- ``payments_primary``: payments' primary rotation, alice and bob taking turns a week each;
- ``incident``: a triggered SEV2 of payments on the checkout service, declared by alice.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from oncall.models import Membership
from oncall.services import create_rotation
from tests.factories import (
    MembershipFactory,
    TeamFactory,
    UserFactory,
    ensure_severities,
    make_incident,
)

__all__ = ["incident", "ivan", "payments_primary", "platform"]


@pytest.fixture
def platform(db):
    return TeamFactory(slug="platform", name="Platform", timezone="Europe/London")


@pytest.fixture
def ivan(platform):
    user = UserFactory(username="ivan", full_name="Ivan Ivanov", timezone="Europe/London")
    MembershipFactory(team=platform, user=user, role=Membership.Role.LEAD)
    return user


@pytest.fixture
def payments_primary(payments, alice, bob):
    # The first hand-off was two days ago (UTC wall clock, a week per shift)...
    # So alice (the first participant) is on call now, for five more days.
    first = (timezone.now() - timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    return create_rotation(team=payments, name="Payments primary", participants=[alice, bob], shift_length="P7D",
                           handoff_at=first, timezone="UTC", by=alice)


@pytest.fixture
def incident(payments, alice, checkout):
    ensure_severities()
    return make_incident(team=payments, by=alice, services=[checkout], title="Checkout is failing")
