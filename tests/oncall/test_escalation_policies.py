"""Escalation policies through their services: who may write them, how targets are named, what is refused."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from oncall.models import EscalationPolicy, Membership
from oncall.services import create_policy, delete_policy, update_policy
from oncall.services.escalation import steps_from_api, steps_to_api
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def erik(payments):
    """The payments manager."""
    user = UserFactory(username="erik", full_name="Erik Eriksen")
    MembershipFactory(team=payments, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def primary(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob])


def sev1_steps():
    return [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads"}]},
        {"delay_minutes": 15, "targets": [{"type": "team_managers", "id": "payments"}]},
        {"delay_minutes": 30, "targets": [{"type": "team_leads", "id": "search"}, {"type": "user", "id": "erik"}]},
    ]


def test_a_lead_creates_a_policy_stored_by_key_and_read_back_by_name(payments, search_team, alice, erik, primary):
    policy = create_policy(team=payments, name="SEV1", steps=sev1_steps(), repeat=2, by=alice)

    policy.refresh_from_db()
    assert policy.steps == [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads", "id": payments.pk}]},
        {"delay_minutes": 15, "targets": [{"type": "team_managers", "id": payments.pk}]},
        {"delay_minutes": 30, "targets": [{"type": "team_leads", "id": search_team.pk}, {"type": "user", "id": erik.pk}]},
    ]
    assert steps_to_api(policy.steps) == [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads", "id": "payments"}]},
        {"delay_minutes": 15, "targets": [{"type": "team_managers", "id": "payments"}]},
        {"delay_minutes": 30, "targets": [{"type": "team_leads", "id": "search"}, {"type": "user", "id": "erik"}]},
    ]
    assert policy.repeat == 2


def test_a_rotation_is_named_by_its_id_or_by_the_name_of_one_of_the_teams_rotations(payments, primary):
    by_id = steps_from_api([{"delay_minutes": 5, "targets": [{"type": "rotation", "id": primary.pk}]}], payments)
    by_name = steps_from_api([{"delay_minutes": 5, "targets": [{"type": "rotation", "id": "Payments primary"}]}],
                             payments)
    assert by_id == by_name == [{"delay_minutes": 5, "targets": [{"type": "rotation", "id": primary.pk}]}]


def test_history_says_who_changed_a_policy_and_why(payments, alice, erik, primary):
    policy = create_policy(team=payments, name="SEV2", steps=sev1_steps()[:1], by=alice)
    update_policy(policy=policy, by=erik, reason="managers asked to be paged sooner",
                  steps=sev1_steps()[:2], description="Pages the manager after 15 minutes")

    rows = list(policy.history.order_by("history_date", "history_id"))
    assert [(r.history_type, r.history_user, r.history_change_reason) for r in rows] == [
        ("+", alice, "created"), ("~", erik, "managers asked to be paged sooner"),
    ]
    assert len(rows[-1].steps) == 2
    delete_policy(policy=policy, by=alice)
    last = policy.history.order_by("history_date", "history_id").last()
    assert (last.history_type, last.history_user, last.history_change_reason) == ("-", alice, "deleted")


def test_a_change_that_changes_nothing_writes_no_history(payments, alice, primary):
    policy = create_policy(team=payments, name="SEV3", steps=sev1_steps()[:1], by=alice)
    update_policy(policy=policy, by=alice, name="SEV3", steps=sev1_steps()[:1], repeat=0)
    assert policy.history.count() == 1
    update_policy(policy=policy, by=alice, repeat=1)
    assert policy.history.first().history_change_reason == "changed repeat"


def test_making_a_policy_the_default_undefaults_the_previous_one(payments, search_team, alice, primary):
    first = create_policy(team=payments, name="Gentle", steps=sev1_steps()[:1], is_default=True, by=alice)
    second = create_policy(team=payments, name="Loud", steps=sev1_steps()[:2], is_default=True, by=alice)

    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    assert first.history.first().history_change_reason == "no longer the default: Loud is"
    assert first.history.first().history_user == alice

    update_policy(policy=first, by=alice, is_default=True)
    assert list(EscalationPolicy.objects.filter(team=payments, is_default=True)) == [first]
    # Another team's default is its own business.
    other = create_policy(team=search_team, name="Search", steps=[{"delay_minutes": 5, "targets": [{"type": "team"}]}],
                          is_default=True, by=None)
    assert set(EscalationPolicy.objects.filter(is_default=True)) == {first, other}


def test_only_leads_managers_and_staff_write_policies(payments, alice, bob, charlie, erik, sam, primary):
    with pytest.raises(PermissionDenied, match="leads and managers of team payments may change its escalation"):
        create_policy(team=payments, name="Mine", steps=sev1_steps()[:1], by=bob)
    with pytest.raises(PermissionDenied):
        create_policy(team=payments, name="Mine", steps=sev1_steps()[:1], by=charlie)
    policy = create_policy(team=payments, name="By the manager", steps=sev1_steps()[:1], by=erik)
    update_policy(policy=policy, by=sam, repeat=3)
    with pytest.raises(PermissionDenied):
        update_policy(policy=policy, by=bob, repeat=1)
    with pytest.raises(PermissionDenied):
        delete_policy(policy=policy, by=bob)
    assert EscalationPolicy.objects.get(pk=policy.pk).repeat == 3


def _refusal(payments, steps) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        steps_from_api(steps, payments)
    return caught.value.message_dict["steps"]


def test_bad_targets_are_refused_naming_the_step_and_the_target(payments, alice, primary):
    gone = UserFactory(username="gone", is_active=False)
    messages = _refusal(payments, [
        {"delay_minutes": 5, "targets": [{"type": "user", "id": "alice"}, {"type": "user", "id": "zed"}]},
        {"delay_minutes": 5, "targets": [{"type": "rotation", "id": 99999}, {"type": "layer", "id": "tertiary"}]},
        {"delay_minutes": 5, "targets": [{"type": "team_leads", "id": "nope"}, {"type": "user", "id": gone.username}]},
    ])
    assert messages == [
        "Step 1, target 2: no user 'zed'; give a username.",
        "Step 2, target 1: no rotation 99999; give the id of a rotation (GET /api/v1/rotations/).",
        "Step 2, target 2: team payments has no layer 'tertiary'; its layers are primary.",
        "Step 3, target 1: no team 'nope'; give a team's slug, or leave id out for team payments.",
        "Step 3, target 2: gone is deactivated and cannot be paged; choose someone else.",
    ]


@pytest.mark.parametrize(("steps", "message"), [
    ([], "A policy needs at least one step."),
    ("page alice", "steps must be a list of {delay_minutes, targets}, not text."),
    ([{"delay_minutes": 0, "targets": [{"type": "team"}]}], "Step 1: delay_minutes must be a whole number of minutes"),
    ([{"delay_minutes": True, "targets": [{"type": "team"}]}], "Step 1: delay_minutes must be a whole number"),
    ([{"delay_minutes": 5, "targets": []}], "Step 1: targets must be a list of 1 to 20"),
    ([{"delay_minutes": 5, "targets": [{"type": "boss", "id": "x"}]}], "Step 1, target 1: unknown type 'boss'"),
    ([{"delay_minutes": 5, "targets": [{"type": "user", "id": 7}]}], "Step 1, target 1: a user target's id is a username"),
    ([{"delay_minutes": 5, "targets": [{"type": "user"}]}], "Step 1, target 1: a user target's id is a username"),
    ([{"delay_minutes": 5, "targets": [{"type": "rotation", "id": None}]}], "Step 1, target 1: a rotation's id is"),
    ([{"delay_minutes": 5, "targets": [{"type": "team"}], "wait": 3}], "Step 1: unknown field wait"),
    ([{"delay_minutes": 5, "targets": [{"type": "team"}, {"type": "team", "id": "payments"}]}],
     "Step 1, target 2: the step already pages this team; list it once."),
    ([{"delay_minutes": 5, "targets": [{"type": "layer", "id": "pri\x00mary"}]}], "NUL character"),
])
def test_malformed_steps_are_refused_with_a_message_saying_what_to_fix(payments, primary, steps, message):
    assert message in " ".join(_refusal(payments, steps))


def test_a_layer_of_a_team_without_rotations_says_so(search_team):
    assert _refusal(search_team, [{"delay_minutes": 5, "targets": [{"type": "layer", "id": "primary"}]}]) == [
        "Step 1, target 1: team search has no layer 'primary'; it has no rotations yet."]


def test_names_and_repeat_are_checked(payments, alice, primary):
    create_policy(team=payments, name="SEV1", steps=sev1_steps()[:1], by=alice)
    with pytest.raises(ValidationError, match="already has a policy named 'SEV1'"):
        create_policy(team=payments, name="SEV1", steps=sev1_steps()[:1], by=alice)
    with pytest.raises(ValidationError, match="a whole number from 0 to 9"):
        create_policy(team=payments, name="Loops", steps=sev1_steps()[:1], repeat=10, by=alice)
    with pytest.raises(ValidationError) as caught:
        create_policy(team=payments, name="two\nlines", steps=sev1_steps()[:1], by=alice)
    assert "name" in caught.value.message_dict
    policy = EscalationPolicy.objects.get()
    with pytest.raises(ValidationError, match="stays with its team"):
        update_policy(policy=policy, by=alice, team=None)
    assert EscalationPolicy.objects.count() == 1


def test_deleting_a_policy_leaves_its_services_without_one(payments, alice, checkout, primary):
    from incidents.models import SeverityPolicy
    from incidents.services import update_service

    policy = create_policy(team=payments, name="SEV1", steps=sev1_steps()[:1], by=alice)
    update_service(service=checkout, by=alice, escalation_policy=policy, escalation_policies={"SEV1": policy})

    delete_policy(policy=policy, by=alice)

    checkout.refresh_from_db()
    assert checkout.escalation_policy is None
    assert not SeverityPolicy.objects.exists()
    assert not EscalationPolicy.objects.exists()
