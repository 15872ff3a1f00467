"""`manage.py seed_demo` gives a newcomer something to look at, and is safe to run twice."""

import pytest
from django.core.management import call_command

from incidents.models import Incident, IncidentStatus
from oncall.models import Team, User

pytestmark = pytest.mark.django_db


def test_demo_has_three_teams_a_dozen_people_and_incidents_in_every_state():
    call_command("seed_demo")
    assert Team.objects.count() == 3
    assert User.objects.filter(is_staff=False).count() == 12
    assert set(Incident.objects.values_list("status", flat=True)) == set(IncidentStatus.values)
    alice = User.objects.get(username="alice")
    assert alice.check_password("vigil-demo")
    assert User.objects.get(username="admin").is_superuser


def test_running_it_again_changes_nothing():
    call_command("seed_demo")
    before = (User.objects.count(), Incident.objects.count(), Incident.history.count())
    call_command("seed_demo")
    assert (User.objects.count(), Incident.objects.count(), Incident.history.count()) == before
