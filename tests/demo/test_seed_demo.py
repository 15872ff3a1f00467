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


def test_demo_teams_have_an_escalation_matrix_their_services_use():
    from incidents.models import Service
    from oncall.models import EscalationPolicy
    from oncall.targets import describe_steps, target_names

    call_command("seed_demo")
    for team in Team.objects.all():
        policies = {p.name.split(":")[0]: p for p in EscalationPolicy.objects.filter(team=team)}
        assert set(policies) == {"SEV1", "SEV2", "SEV3", "SEV4"}
        assert [p.name[:4] for p in EscalationPolicy.objects.filter(team=team, is_default=True)] == ["SEV4"]
        sev1 = policies["SEV1"]
        assert [s.at_minutes for s in describe_steps(sev1.steps, target_names([sev1.steps]))] == [0, 15, 30, 60]
        assert [s.at_minutes for s in describe_steps(policies["SEV2"].steps, target_names([]))] == [0, 15, 30]
        for service in Service.objects.filter(team=team):
            assert service.escalation_policy == policies["SEV4"]
            assert {sp.severity.name: sp.policy for sp in service.severity_policies.all()} == {
                sev: policies[sev] for sev in ("SEV1", "SEV2", "SEV3")}
    payments_sev1 = describe_steps(EscalationPolicy.objects.get(team__slug="payments", name__startswith="SEV1").steps,
                                   target_names([EscalationPolicy.objects.get(team__slug="payments",
                                                                              name__startswith="SEV1").steps]))
    assert payments_sev1[0].targets == ["whoever is on call in the primary layer", "leads of Payments"]
    assert payments_sev1[2].targets == ["leads of Platform", "managers of Platform"]
    platform_sev1 = EscalationPolicy.objects.get(team__slug="platform", name__startswith="SEV1")
    assert describe_steps(platform_sev1.steps, target_names([platform_sev1.steps]))[2].targets == ["Morgan Mills"]
