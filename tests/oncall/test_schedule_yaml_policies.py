"""Escalation policies in the team's schedule file: exported by name, imported by name, refused whole."""

import pytest
from django.core.exceptions import ValidationError

from oncall.models import EscalationPolicy, Rotation
from oncall.schedule_files import export_schedule
from oncall.services import create_policy, import_schedule
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policies(make_rotation, payments, search_team, alice, bob):
    primary = make_rotation(name="Payments primary", participants=[alice, bob])
    create_policy(team=payments, name="SEV1", description="Loud", repeat=1, by=alice, steps=[
        {"delay_minutes": 15, "targets": [{"type": "rotation", "id": primary.pk}, {"type": "team_leads"}]},
        {"delay_minutes": 30, "targets": [{"type": "user", "id": "bob"}, {"type": "team_managers", "id": "search"}]},
    ])
    create_policy(team=payments, name="SEV4", is_default=True, by=alice, steps=[
        {"delay_minutes": 60, "targets": [{"type": "layer", "id": "primary"}]}])
    return payments


def test_the_file_lists_policies_in_the_apis_terms_with_the_teams_rotations_by_name(policies):
    text = export_schedule(policies)

    assert "\npolicies:\n- name: SEV1\n  description: Loud\n  repeat: 1\n  default: false\n  steps:\n" in text
    assert "  - delay_minutes: 15\n    targets:\n    - {type: rotation, id: Payments primary}\n    - {type: team_leads}\n" \
        in text
    assert "    - {type: user, id: bob}\n    - {type: team_managers, id: search}\n" in text
    assert "- name: SEV4\n  description: ''\n  repeat: 0\n  default: true\n" in text


def test_a_team_without_policies_exports_as_before(make_rotation, alice, bob, payments):
    make_rotation(name="Primary", participants=[alice, bob])
    assert "policies" not in export_schedule(payments)


def test_round_trip_into_another_team_is_identical(policies, alice, bob):
    text = export_schedule(policies)
    other = TeamFactory(slug="payments-eu", name="Payments EU")
    for person in (alice, bob):
        MembershipFactory(team=other, user=person)

    counts = import_schedule(team=other, text=text.replace("team: payments", "team: payments-eu"))

    assert counts["created"] == 1 and counts["policies"] == 2
    assert export_schedule(other) == text.replace("team: payments", "team: payments-eu")
    copied = EscalationPolicy.objects.get(team=other, name="SEV1")
    # "Payments primary" and "the team's leads" are the new team's own.
    assert copied.steps[0]["targets"] == [
        {"type": "rotation", "id": Rotation.objects.get(team=other).pk}, {"type": "team_leads", "id": other.pk}]
    assert EscalationPolicy.objects.get(team=other, is_default=True).name == "SEV4"


def test_importing_an_unchanged_file_writes_nothing(policies):
    text = export_schedule(policies)
    before = EscalationPolicy.history.count()

    assert import_schedule(team=policies, text=text)["policies"] == 0
    assert EscalationPolicy.history.count() == before


def test_import_creates_and_updates_by_name_and_leaves_others_alone(policies, alice):
    text = export_schedule(policies)
    text = text.replace("repeat: 1", "repeat: 3").replace("- name: SEV4\n  description: ''\n  repeat: 0\n  "
                                                          "default: true",
                                                          "- name: SEV4 quiet\n  description: ''\n  repeat: 0\n  "
                                                          "default: true")

    counts = import_schedule(team=policies, text=text, by=alice)

    assert counts["policies"] == 2
    assert EscalationPolicy.objects.get(name="SEV1").repeat == 3
    assert EscalationPolicy.objects.get(name="SEV1").history.first().history_change_reason == "imported"
    # The new default takes over; the old one stays (not in the file: left alone), no longer the default.
    assert list(EscalationPolicy.objects.filter(is_default=True).values_list("name", flat=True)) == ["SEV4 quiet"]
    assert EscalationPolicy.objects.filter(name="SEV4").exists()


@pytest.mark.parametrize(("old", "new", "message"), [
    ("id: bob}", "id: zed}", "Policy 'SEV1': Step 2, target 1: no user 'zed'; give a username."),
    ("id: Payments primary}", "id: Nightly}", "Policy 'SEV1': Step 1, target 1: team payments has no rotation named "
                                              "'Nightly'."),
    ("{type: layer, id: primary}", "{type: layer, id: night}", "Policy 'SEV4': Step 1, target 1: team payments has "
                                                               "no layer 'night'"),
    ("delay_minutes: 60", "delay_minutes: soon", "Policy 'SEV4': Step 1: delay_minutes must be a whole number"),
    ("repeat: 1", "repeat: many", "Policy 'SEV1': repeat must be a whole number from 0 to 9"),
    ("default: false", "default: maybe", "Policy 'SEV1': default must be true or false"),
    ("default: false", "default: true", "Only one policy may be the default; the file marks 'SEV1', 'SEV4'."),
    ("- name: SEV4", "- name: SEV1", "Policy 'SEV1' is in the file twice"),
    ("  steps:\n  - delay_minutes: 60", "  steps: none\n  - delay_minutes: 60", "Not valid YAML"),
    ("policies:\n", "policies: nothing\nother:\n", "policies must be a list"),
])
def test_a_bad_policy_is_refused_by_name_and_step_and_nothing_changes(policies, alice, old, new, message):
    text = export_schedule(policies).replace("repeat: 0", "repeat: 2")  # a change that would be written
    assert old in text
    history = EscalationPolicy.history.count()

    with pytest.raises(ValidationError) as caught:
        import_schedule(team=policies, text=text.replace(old, new, 1), by=alice)

    assert message in " ".join(caught.value.messages)
    assert EscalationPolicy.history.count() == history
    assert EscalationPolicy.objects.get(name="SEV4").repeat == 0


def test_a_member_may_not_import_policies(client, bob, policies):
    client.force_login(bob)
    text = export_schedule(policies).replace("repeat: 1", "repeat: 5")
    assert client.post("/oncall/teams/payments/schedule.yaml", {"text": text}).status_code == 403
    assert EscalationPolicy.objects.get(name="SEV1").repeat == 1


def test_the_upload_page_imports_policies_and_says_so(client, alice, policies):
    client.force_login(alice)
    text = export_schedule(policies).replace("repeat: 1", "repeat: 5")
    response = client.post("/oncall/teams/payments/schedule.yaml", {"text": text}, follow=True)
    assert "Imported: policies 1" in response.content.decode()
    assert EscalationPolicy.objects.get(name="SEV1").repeat == 5
