"""`manage.py seed_demo` gives a newcomer something to look at, and is safe to run twice."""

import pytest
from django.core.management import call_command
from django.utils import timezone

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


def test_demo_has_someone_on_call_in_every_layer_of_every_team_now():
    from oncall.schedule import who_is_on_call

    call_command("seed_demo")
    rows = who_is_on_call(timezone.now())
    covered = {(row.rotation.team.slug, row.rotation.layer) for row in rows}
    assert covered == {(t, layer) for t in ("payments", "search", "platform") for layer in ("primary", "secondary")}
