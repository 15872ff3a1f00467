"""--apply brings the organisation over through the services; a second run changes nothing; Vigil then puts
the same person on call as PagerDuty, minute for minute, across both DST changes of March 2027."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError

from alerts.models import Integration
from alerts.queries import integration_for_key
from importers.models import ImportedObject
from importers.services import KINDS
from incidents.models import Service
from oncall.models import EscalationPolicy, Membership, Override, Rotation, Team, User
from oncall.schedule import who_is_on_call
from paging.models import ContactMethod
from tests.factories import UserFactory
from tests.importers.pagerduty_fake import NOW

WRITTEN = (User, Team, Membership, Rotation, Override, EscalationPolicy, Service, Integration, ContactMethod,
           ImportedObject)


def _history_rows() -> int:
    return sum(model.history.count() for model in (Rotation, Override, EscalationPolicy, Service, Integration))


def test_apply_creates_people_teams_rotations_policies_services_and_keys(from_pagerduty):
    amara = UserFactory(username="amara.o", email="Amara@Example.com")

    output = from_pagerduty("--apply")

    assert "import — applied" in output
    ben = User.objects.get(email="ben@example.com")
    assert (ben.username, ben.full_name, ben.timezone, ben.is_active, ben.has_usable_password()) == \
        ("ben", "Ben Schulz", "Europe/Berlin", True, False)
    assert User.objects.filter(email__iexact="amara@example.com").get() == amara  # matched, not duplicated
    payments = Team.objects.get(slug="payments")
    assert {m.user.username: m.role for m in payments.memberships.select_related("user")} == {
        "amara.o": "manager", "ben": "member", "chloe": "member", "kai": "member", "elena": "member"}
    weekly = Rotation.objects.get(team=payments, name="Payments Primary · Weekly")
    assert (weekly.layer, weekly.shift_length, weekly.timezone, str(weekly.handoff_date), str(weekly.handoff_time)) \
        == ("payments-primary", "P1W", "Europe/Berlin", "2026-11-02", "09:00:00")
    # The weekend layer above it hides it from Saturday 00:00 to Monday 00:00.
    assert weekly.restrictions == [{"days": [0, 1, 2, 3, 4], "start": "00:00", "end": "00:00"}]
    mobile = Rotation.objects.get(name="Mobile Business Hours · Weekdays")
    assert (mobile.shift_length, mobile.restrictions) == \
        ("PT12H", [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}])
    policy = EscalationPolicy.objects.get(team=payments, name="Payments Escalation")
    primary = Rotation.objects.get(name="Payments Primary · Weekly")
    assert policy.repeat == 2
    assert policy.steps == [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "payments-primary"}]},
        {"delay_minutes": 10, "targets": [{"type": "layer", "id": "payments-secondary"}]},
        {"delay_minutes": 30, "targets": [{"type": "user", "id": amara.pk}]},
    ]
    assert Service.objects.get(name="Payments API").escalation_policy == policy
    assert Integration.objects.filter(service__team=payments).count() == 3  # the e-mail integration stays behind
    # Overrides from now on: Kai's, under way, starts now; each lands on both rotations of the schedule.
    assert [(o.user.username, o.start_at) for o in primary.overrides.order_by("start_at")] == [
        ("kai", NOW), ("ben", datetime(2027, 3, 3, 17, tzinfo=UTC))]
    assert Override.objects.filter(rotation__name="Payments Primary · Weekend cover").count() == 2
    # Contact methods come over unverified (the account e-mail is Vigil's own, verified); a push "method" does not.
    assert sorted((m.kind, m.address, m.verified) for m in ContactMethod.objects.filter(user=ben)) == [
        ("email", "ben@example.com", True), ("sms", "+4915112345678", False), ("voice", "+4915112345678", False)]
    # History says who and why, as for any other change.
    assert primary.history.earliest().history_change_reason == "created"


def test_each_new_integration_key_is_printed_once_and_works(from_pagerduty):
    output = from_pagerduty("--apply")

    keys = re.findall(r"^  (.+) / (.+) \(events_v2\): ([0-9a-f]{32})$", output, re.MULTILINE)
    assert len(keys) == 7
    service, name, key = next(k for k in keys if k[1] == "Prometheus")
    assert integration_for_key(key).name == "Prometheus"
    assert "url: http" in output and "/v2/enqueue" in output
    assert key not in from_pagerduty("--apply")  # never shown again


def test_a_second_apply_changes_nothing(from_pagerduty):
    from_pagerduty("--apply")
    rows = {model.__name__: model.objects.count() for model in WRITTEN}
    history = _history_rows()

    output = from_pagerduty("--apply")

    assert {model.__name__: model.objects.count() for model in WRITTEN} == rows
    assert _history_rows() == history
    table = [line.split()[-4:] for line in output.splitlines() if re.fullmatch(r"[a-z ]+( +\d+){4}", line)]
    assert len(table) == len(KINDS)
    assert all(create == match == "0" for create, match, _, _ in table), output  # everything "exists"


def test_whoever_pagerduty_renders_is_on_call_in_vigil_for_the_next_28_days_across_dst(from_pagerduty):
    output = from_pagerduty("--apply")

    assert "Fidelity, 2027-03-01 12:00 to 2027-03-29 12:00 UTC: 4 schedule(s) compared, 0 minute(s) differ." \
        in output
    # Spot checks a person would make: New York moved to summer time on 14 March; the APAC shift that night
    # is seven hours, and Monday's Americas shift starts at 11:00 local, now 15:00 UTC.
    on_call = {(o.rotation.name, o.user.username) for o in who_is_on_call(NOW + timedelta(days=13, hours=3))}
    assert ("Platform Follow-the-Sun · Americas", "farid") in on_call  # 2027-03-14 15:00 UTC = 11:00 EDT


def test_a_changed_vigil_rotation_shows_in_the_fidelity_report(from_pagerduty):
    from_pagerduty("--apply")
    rotation = Rotation.objects.get(name="Payments Secondary · Layer 1")
    rotation.participants.filter(position=0).update(user=User.objects.get(username="chloe"))

    output = from_pagerduty()

    assert re.search(r"Payments Secondary: 2027-03-\d\d \d\d:\d\d–2027-03-\d\d \d\d:\d\d UTC \(2880 min\): "
                     r"Vigil chloe, PagerDuty kai", output)


def test_a_team_vigil_refuses_is_rolled_back_whole_and_the_others_come_over(pagerduty, from_pagerduty):
    # An override of 400 days: Vigil takes at most 366 (core.instants.MAX_COVER).
    pagerduty.data["overrides"]["PS4MOBL"].append({
        "id": "PO9LONG", "start": "2027-04-01T00:00:00Z", "end": "2028-05-05T00:00:00Z",
        "user": {"id": "PLEON12", "type": "user_reference", "summary": "Leo Novak"}})

    with pytest.raises(CommandError, match=r"1 team\(s\) could not be imported"):
        from_pagerduty("--apply")

    assert set(Team.objects.values_list("slug", flat=True)) == {"payments", "platform"}
    assert not Rotation.objects.filter(name__startswith="Mobile").exists()
    assert not Service.objects.filter(name="Mobile Backend").exists()
    assert not ImportedObject.objects.filter(kind="team", source_id="PT3MOBI").exists()


def test_the_changes_are_recorded_as_the_staff_member_given(from_pagerduty):
    sam = UserFactory(username="sam", is_staff=True)

    from_pagerduty("--apply", "--by", "sam")

    assert Rotation.history.filter(history_user=sam).count() == 7
    assert EscalationPolicy.history.filter(history_user=sam).count() == 4


def test_only_staff_may_be_named_with_by(from_pagerduty):
    UserFactory(username="bob")

    with pytest.raises(CommandError, match="--by 'bob': no active staff member has that username"):
        from_pagerduty("--apply", "--by", "bob")


def test_a_notification_rule_comes_over_when_its_method_is_verified_in_vigil(from_pagerduty):
    david = UserFactory(username="dkim", email="david@example.com")
    ContactMethod.objects.create(user=david, kind="sms", address="+12125550147", verified_at=NOW)

    output = from_pagerduty("--apply")

    assert "create  David Kim: high urgency, after 5 min, sms +12125550147" in output
    assert david.notification_rules.filter(urgency="high", delay_minutes=5, contact_method__kind="sms").exists()
    # Ben's SMS is new and unverified: his rule waits for him, and says so.
    assert "Ben Schulz: high urgency, after 5 min, sms +4915112345678 [PNS0001]: Vigil uses a rule only with a " \
           "verified contact method" in output
