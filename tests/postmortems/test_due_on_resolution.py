"""Resolving a SEV1 or SEV2 makes its postmortem due (48 hours, 7 days: the severity's policy); a SEV3 or
SEV4 owes none, but anyone working it may start one. The owner is the incident commander."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from incidents.models import Severity
from incidents.services import transition_incident, update_incident
from postmortems.models import Postmortem, PostmortemPolicy
from postmortems.services import PostmortemExists, start_postmortem

from .conftest import MIN, T0, declare, drive

pytestmark = pytest.mark.django_db
RESOLVED = T0 + 70 * MIN


@pytest.mark.parametrize(("sev", "hours"), [("SEV1", 48), ("SEV2", 7 * 24)])
def test_resolving_a_sev1_or_sev2_makes_a_required_postmortem_due(payments, alice, bob, sev, hours):
    incident = drive(declare(payments, alice, sev), by=alice, commander=bob)
    postmortem = Postmortem.objects.get(incident=incident)
    assert postmortem.required and postmortem.status == "draft"
    assert postmortem.due_at == RESOLVED + timedelta(hours=hours)
    assert postmortem.owner == bob  # the commander
    assert postmortem.created_by is None  # Vigil made it


@pytest.mark.parametrize("sev", ["SEV3", "SEV4"])
def test_a_sev3_or_sev4_owes_no_postmortem_but_anyone_working_it_may_start_one(payments, alice, bob, sev):
    incident = drive(declare(payments, alice, sev), by=alice)
    assert not Postmortem.objects.exists()
    postmortem = start_postmortem(incident=incident, by=bob, now=RESOLVED + 5 * MIN)
    assert not postmortem.required and postmortem.due_at is None
    assert postmortem.created_by == bob and postmortem.owner == bob  # no commander: who started it
    with pytest.raises(PostmortemExists):
        start_postmortem(incident=incident, by=alice)


def test_the_due_time_follows_the_policy_staff_set_per_severity(payments, alice):
    PostmortemPolicy.objects.filter(severity__name="SEV3").update(required=True, due_hours=24)
    incident = drive(declare(payments, alice, "SEV3"), by=alice)
    postmortem = Postmortem.objects.get(incident=incident)
    assert postmortem.required and postmortem.due_at == RESOLVED + timedelta(hours=24)
    assert postmortem.owner == alice  # nobody commands it: whoever resolved it


def test_without_a_policy_row_a_severity_follows_the_defaults(payments, alice):
    PostmortemPolicy.objects.all().delete()
    incident = drive(declare(payments, alice, "SEV2"), by=alice)
    assert Postmortem.objects.get(incident=incident).due_at == RESOLVED + timedelta(days=7)


def test_an_incident_resolved_again_keeps_its_one_postmortem_and_due_date(resolved_sev1, alice):
    first = resolved_sev1.postmortem
    incident = transition_incident(incident=resolved_sev1, transition="reopen", by=alice, now=T0 + 80 * MIN)
    transition_incident(incident=incident, transition="resolve", by=alice, now=T0 + 90 * MIN)
    assert list(Postmortem.objects.all()) == [first]
    assert Postmortem.objects.get().due_at == first.due_at


def test_a_resolved_incident_raised_to_sev1_gets_its_required_postmortem(payments, alice):
    incident = drive(declare(payments, alice, "SEV3"), by=alice)
    update_incident(incident=incident, by=alice, severity=Severity.objects.get(name="SEV1"), now=T0 + 2 * 60 * MIN)
    postmortem = Postmortem.objects.get(incident=incident)
    assert postmortem.required and postmortem.due_at == T0 + 2 * 60 * MIN + timedelta(hours=48)


def test_a_postmortem_is_started_only_once_the_incident_is_resolved(payments, alice):
    incident = drive(declare(payments, alice, "SEV3"), by=alice, resolve=False)
    with pytest.raises(ValidationError, match="resolve it first"):
        start_postmortem(incident=incident, by=alice)
