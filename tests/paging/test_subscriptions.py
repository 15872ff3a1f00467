"""Stakeholders who subscribe are told of declaration, severity changes and resolution: informed, not paged."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents.models import Severity
from incidents.services import create_incident, transition_incident, update_incident
from paging.models import EscalationRun, Notification
from paging.services.delivery import deliver_due
from paging.services.subscriptions import subscribe, unsubscribe
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def sev(name):
    return Severity.objects.get(name=name)


@pytest.fixture
def vera(payments):
    """A stakeholder: in the payments team, never on call."""
    user = UserFactory(username="vera", full_name="Vera Stakeholder")
    MembershipFactory(team=payments, user=user)
    return user


def told(user) -> list[str]:
    deliver_due(now=timezone.now())
    return [m.subject for m in mail.outbox if m.to == [user.email]]


def test_a_team_subscriber_hears_of_declaration_severity_change_and_resolution(payments, alice, vera):
    subscribe(user=vera, team=payments, min_severity=sev("SEV2"), by=vera)
    incident = create_incident(title="Checkout down", severity=sev("SEV2"), team=payments, by=alice)
    update_incident(incident=incident, by=alice, severity=sev("SEV1"))
    transition_incident(incident=incident, transition="resolve", by=alice)
    subjects = told(vera)
    assert [s.split(":")[0] for s in subjects] == ["Declared", "Severity changed to SEV1", "Resolved"]
    assert all(incident.number in s for s in subjects)
    assert set(Notification.objects.filter(user=vera).values_list("kind", flat=True)) == {"stakeholder"}
    assert not EscalationRun.objects.filter(notifications__user=vera).exists(), "told, never paged"


def test_incidents_below_the_chosen_severity_are_not_told(payments, alice, vera):
    subscribe(user=vera, team=payments, min_severity=sev("SEV2"), by=vera)
    create_incident(title="A small glitch", severity=sev("SEV3"), team=payments, by=alice)
    assert told(vera) == []


def test_a_service_subscriber_hears_only_of_that_services_incidents(payments, checkout, alice, vera):
    subscribe(user=vera, service=checkout, min_severity=sev("SEV4"), by=vera)
    create_incident(title="Other thing", severity=sev("SEV1"), team=payments, by=alice)
    create_incident(title="Checkout slow", severity=sev("SEV3"), team=payments, services=[checkout], by=alice)
    assert [s.split(":")[0] for s in told(vera)] == ["Declared"]
    assert "Checkout slow" in told(vera)[0]


def test_subscribing_again_changes_the_severity_and_unsubscribing_stops_notices(payments, alice, vera):
    subscribe(user=vera, team=payments, min_severity=sev("SEV1"), by=vera)
    sub = subscribe(user=vera, team=payments, min_severity=sev("SEV3"), by=vera)
    assert sub.min_severity.name == "SEV3" and vera.subscriptions.count() == 1
    unsubscribe(subscription=sub, by=vera)
    create_incident(title="Checkout down", severity=sev("SEV1"), team=payments, by=alice)
    assert told(vera) == []


def test_one_cannot_subscribe_to_a_team_one_cannot_see_nor_for_someone_else(payments, search_team, alice, charlie, vera):
    with pytest.raises(PermissionDenied):
        subscribe(user=charlie, team=payments, min_severity=sev("SEV1"), by=charlie)
    with pytest.raises(PermissionDenied):
        subscribe(user=vera, team=payments, min_severity=sev("SEV1"), by=alice)
    with pytest.raises(ValidationError):
        subscribe(user=vera, min_severity=sev("SEV1"), by=vera)
