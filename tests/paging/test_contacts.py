"""A person's contact methods, their verification, notification rules and working hours (paging.services.contacts)."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from paging.models import ContactMethod, Notification, NotificationRule, PagingProfile
from paging.services import contacts
from paging.services.notify import held_until, plans_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def _sent_code(deliver_queued, address: str) -> str:
    deliver_queued()
    return _code([m for m in mail.outbox if address in m.to][-1])


# --- A new person ------------------------------------------------------------------------------------

def test_a_new_person_starts_with_their_account_email_verified_and_used_at_once_for_both_urgencies():
    dana = UserFactory(username="dana", email="dana@example.com")
    [method] = ContactMethod.objects.filter(user=dana)
    assert (method.kind, method.address, method.verified) == ("email", "dana@example.com", True)
    rules = NotificationRule.objects.filter(user=dana).order_by("urgency")
    assert [(r.urgency, r.contact_method_id, r.delay_minutes) for r in rules] == [
        ("high", method.pk, 0), ("low", method.pk, 0)]


# --- Addresses per kind --------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "typed", "stored"), [
    ("email", " Alice.Archer@Example.COM ", "Alice.Archer@example.com"),
    ("sms", "+49 151 1234-5678", "+4915112345678"),
    ("voice", "+1 (415) 555-0100", "+14155550100"),
    ("slack", "U012AB3CD", "U012AB3CD"),
    ("slack", "W0123ABCD", "W0123ABCD"),
    ("slack", "https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/services/T000/B000/XXXX"),
    ("webhook", "https://ops.example.com/vigil", "https://ops.example.com/vigil"),
    ("webhook", "http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
    ("webhook", "http://localhost:9000/hook", "http://localhost:9000/hook"),
])
def test_an_address_right_for_its_kind_is_added_unverified(alice, kind, typed, stored):
    method = contacts.add_contact_method(user=alice, kind=kind, address=typed, label="mine", by=alice)
    assert (method.kind, method.address, method.label, method.verified) == (kind, stored, "mine", False)


@pytest.mark.parametrize(("kind", "address", "says"), [
    ("email", "alice-at-example.com", "is not an e-mail address"),
    ("sms", "015112345678", "international form"),
    ("sms", "+49 151", "8 to 15 digits"),
    ("voice", "+4915112345678901234", "8 to 15 digits"),
    ("voice", "+0151123456789", "international form"),
    ("slack", "alice", "neither a Slack member id"),
    ("slack", "u012ab3cd", "neither a Slack member id"),
    ("slack", "https://evil.example.com/services/x", "starts with https://hooks.slack.com/"),
    ("webhook", "ftp://example.com/x", "give a full URL"),
    ("webhook", "http://ops.example.com/vigil", "use an https:// URL"),
    ("webhook", "not a url", "give a full URL"),
    ("email", "", "Give an address"),
    ("email", "a@example.com\nb@example.com", "one line"),
])
def test_a_wrong_address_is_refused_saying_what_to_fix(alice, kind, address, says):
    with pytest.raises(ValidationError) as refused:
        contacts.add_contact_method(user=alice, kind=kind, address=address, by=alice)
    assert says in " ".join(refused.value.message_dict["address"])
    assert not ContactMethod.objects.filter(user=alice, kind=kind).exclude(address="alice@example.com").exists()


def test_plain_http_webhooks_are_allowed_anywhere_in_development(alice, settings):
    settings.DEBUG = True
    method = contacts.add_contact_method(user=alice, kind="webhook", address="http://ops.internal/hook", by=alice)
    assert method.address == "http://ops.internal/hook"


def test_an_unknown_kind_is_refused(alice):
    with pytest.raises(ValidationError) as refused:
        contacts.add_contact_method(user=alice, kind="pigeon", address="roof", by=alice)
    assert "use one of email, sms, voice, slack, webhook" in refused.value.message_dict["kind"][0]


def test_the_same_address_twice_is_refused_as_a_duplicate(alice):
    contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=alice)
    with pytest.raises(ValidationError) as refused:
        contacts.add_contact_method(user=alice, kind="sms", address="+49 151 12345678", by=alice)
    assert refused.value.message_dict["address"] == [
        "SMS +4915112345678 is already one of this person's contact methods."]


def test_a_person_has_at_most_twenty_methods(alice):
    for i in range(1, contacts.MAX_METHODS):  # the account e-mail is the first
        contacts.add_contact_method(user=alice, kind="sms", address=f"+49151000000{i:02d}", by=alice)
    with pytest.raises(ValidationError) as refused:
        contacts.add_contact_method(user=alice, kind="sms", address="+4915199999999", by=alice)
    assert refused.value.messages == ["A person may have at most 20 contact methods; delete one first."]


def test_a_webhook_gets_a_signing_secret(alice):
    method = contacts.add_contact_method(user=alice, kind="webhook", address="https://ops.example.com/h", by=alice)
    assert len(method.secret) == 64


def test_a_new_address_must_be_verified_again(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    contacts.send_verification(method=method, by=alice)
    contacts.verify_contact_method(method=method, code=_sent_code(deliver_queued, "alice@home.example"), by=alice)
    method = contacts.update_contact_method(method=method, label="home", address="alice@new.example", by=alice)
    method.refresh_from_db()
    assert (method.address, method.label, method.verified) == ("alice@new.example", "home", False)
    relabelled = contacts.update_contact_method(method=method, label="new home", by=alice)
    assert relabelled.label == "new home"


# --- Who may ---------------------------------------------------------------------------------------

def test_only_the_person_or_staff_may_manage_their_methods(alice, bob, sam):
    with pytest.raises(PermissionDenied):
        contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=bob)
    method = contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=sam)
    for call in (lambda: contacts.send_test(method=method, by=bob),
                 lambda: contacts.send_verification(method=method, by=bob),
                 lambda: contacts.delete_contact_method(method=method, by=bob),
                 lambda: contacts.set_working_hours(user=alice, hold_low_urgency=False, work_days=[], work_start=None,
                                                    work_end=None, by=bob)):
        with pytest.raises(PermissionDenied):
            call()
    contacts.delete_contact_method(method=method, by=sam)
    assert not ContactMethod.objects.filter(pk=method.pk).exists()


# --- Verification --------------------------------------------------------------------------------------

def test_a_code_sent_and_typed_back_verifies_the_method(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    sent = contacts.send_verification(method=method, by=alice)
    assert sent.kind == Notification.Kind.VERIFY
    code = _sent_code(deliver_queued, "alice@home.example")
    method.refresh_from_db()
    assert code not in method.code_hash and len(method.code_hash) == 64  # only an HMAC is kept
    contacts.verify_contact_method(method=method, code=f" {code[:3]} {code[3:]} ", by=alice)
    method.refresh_from_db()
    assert method.verified and method.code_hash == "" and method.code_expires_at is None


def test_the_code_is_compared_in_constant_time(alice, monkeypatch):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    contacts.send_verification(method=method, by=alice)
    compared = []
    real = contacts.constant_time_compare
    monkeypatch.setattr(contacts, "constant_time_compare", lambda a, b: compared.append((a, b)) or real(a, b))
    with pytest.raises(ValidationError):
        contacts.verify_contact_method(method=method, code="not the code", by=alice)
    method.refresh_from_db()
    assert len(compared) == 1 and compared[0][1] == method.code_hash


def test_a_wrong_code_is_refused_and_leaves_the_method_unverified(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    contacts.send_verification(method=method, by=alice)
    code = _sent_code(deliver_queued, "alice@home.example")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as refused:
        contacts.verify_contact_method(method=method, code=wrong, by=alice)
    assert "That code is wrong" in refused.value.messages[0]
    method.refresh_from_db()
    assert not method.verified
    contacts.verify_contact_method(method=method, code=code, by=alice)  # the right one still works
    method.refresh_from_db()
    assert method.verified


def test_an_expired_code_is_refused(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    sent_at = timezone.now()
    contacts.send_verification(method=method, by=alice, now=sent_at)
    code = _sent_code(deliver_queued, "alice@home.example")
    with pytest.raises(ValidationError) as refused:
        contacts.verify_contact_method(method=method, code=code, by=alice, now=sent_at + timedelta(minutes=15))
    assert "expired" in refused.value.messages[0]
    method.refresh_from_db()
    assert not method.verified
    contacts.verify_contact_method(method=method, code=code, by=alice, now=sent_at + timedelta(minutes=14))


def test_five_wrong_codes_void_the_code(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    contacts.send_verification(method=method, by=alice)
    code = _sent_code(deliver_queued, "alice@home.example")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(ValidationError):
            contacts.verify_contact_method(method=method, code=wrong, by=alice)
    with pytest.raises(ValidationError) as refused:
        contacts.verify_contact_method(method=method, code=wrong, by=alice)
    assert "no longer works" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        contacts.verify_contact_method(method=method, code=code, by=alice)
    assert "send one first" in refused.value.messages[0]


def test_no_pending_code_is_refused_with_a_hint(alice):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    with pytest.raises(ValidationError) as refused:
        contacts.verify_contact_method(method=method, code="123456", by=alice)
    assert refused.value.messages == ["No code is waiting for this method; send one first."]


def test_codes_are_sent_at_most_once_a_minute_per_method(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    start = timezone.now()
    contacts.send_verification(method=method, by=alice, now=start)
    with pytest.raises(contacts.TooSoon) as refused:
        contacts.send_verification(method=method, by=alice, now=start + timedelta(seconds=20))
    assert refused.value.retry_after == 40
    assert "wait 40 seconds" in refused.value.messages[0]
    first = _sent_code(deliver_queued, "alice@home.example")
    contacts.send_verification(method=method, by=alice, now=start + timedelta(seconds=61))
    deliver_queued()
    codes = [_code(m) for m in mail.outbox if "alice@home.example" in m.to]
    assert len(codes) == 2 and codes[0] == first
    # The latest code replaces the earlier one.
    if codes[1] != first:
        with pytest.raises(ValidationError):
            contacts.verify_contact_method(method=method, code=first, by=alice, now=start + timedelta(seconds=62))
    contacts.verify_contact_method(method=method, code=codes[1], by=alice, now=start + timedelta(seconds=62))


# --- Tests ----------------------------------------------------------------------------------------

def test_a_test_message_reaches_a_method_even_before_it_is_verified(alice, deliver_queued):
    method = contacts.add_contact_method(user=alice, kind="email", address="alice@home.example", by=alice)
    contacts.send_test(method=method, by=alice)
    deliver_queued()
    [sent] = [m for m in mail.outbox if "alice@home.example" in m.to]
    assert sent.subject == "Vigil test message"
    assert "not verified yet" in sent.body
    with pytest.raises(contacts.TooSoon):
        contacts.send_test(method=method, by=alice)


# --- Rules ----------------------------------------------------------------------------------------

def _verified(user, kind="sms", address="+4915112345678"):
    method = contacts.add_contact_method(user=user, kind=kind, address=address, by=user)
    ContactMethod.objects.filter(pk=method.pk).update(verified_at=timezone.now())
    method.refresh_from_db()
    return method


def test_a_rule_uses_a_verified_method_of_ones_own(alice):
    sms = _verified(alice)
    rule = contacts.add_rule(user=alice, urgency="high", contact_method=sms, delay_minutes=2, by=alice)
    assert (rule.urgency, rule.contact_method, rule.delay_minutes) == ("high", sms, 2)
    planned = plans_for([alice], "high")[alice.pk]
    assert [(p.method.kind, p.delay_minutes) for p in planned] == [("email", 0), ("sms", 2)]


def test_a_rule_on_an_unverified_method_is_refused(alice):
    sms = contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=alice)
    with pytest.raises(ValidationError) as refused:
        contacts.add_rule(user=alice, urgency="high", contact_method=sms, delay_minutes=0, by=alice)
    assert "Verify SMS +4915112345678 first" in refused.value.message_dict["contact_method"][0]


def test_a_rule_on_someone_elses_method_is_refused(alice, bob):
    bobs = _verified(bob)
    with pytest.raises(ValidationError) as refused:
        contacts.add_rule(user=alice, urgency="high", contact_method=bobs, delay_minutes=0, by=alice)
    assert refused.value.message_dict["contact_method"] == ["Choose one of this person's own contact methods."]


@pytest.mark.parametrize(("field", "kwargs", "says"), [
    ("urgency", {"urgency": "urgent"}, "use high (SEV1, SEV2) or low"),
    ("delay_minutes", {"delay_minutes": 1441}, "from 0 (at once) to 1440"),
    ("delay_minutes", {"delay_minutes": -1}, "from 0 (at once) to 1440"),
])
def test_a_rule_out_of_range_is_refused(alice, field, kwargs, says):
    sms = _verified(alice)
    with pytest.raises(ValidationError) as refused:
        contacts.add_rule(**{"user": alice, "urgency": "high", "contact_method": sms, "delay_minutes": 0, "by": alice,
                             **kwargs})
    assert says in refused.value.message_dict[field][0]


def test_the_same_rule_twice_is_refused(alice):
    sms = _verified(alice)
    contacts.add_rule(user=alice, urgency="low", contact_method=sms, delay_minutes=5, by=alice)
    with pytest.raises(ValidationError) as refused:
        contacts.add_rule(user=alice, urgency="low", contact_method=sms, delay_minutes=5, by=alice)
    assert "exists already" in refused.value.messages[0]


def test_without_rules_or_methods_a_person_falls_back_to_their_account_email(alice):
    for rule in NotificationRule.objects.filter(user=alice):
        contacts.delete_rule(rule=rule, by=alice)
    for method in ContactMethod.objects.filter(user=alice):
        contacts.delete_contact_method(method=method, by=alice)
    planned = plans_for([alice], "high")[alice.pk]
    assert [(p.method.kind, p.method.address, p.delay_minutes) for p in planned] == [("email", alice.email, 0)]


def test_deleting_a_method_deletes_its_rules(alice):
    sms = _verified(alice)
    contacts.add_rule(user=alice, urgency="high", contact_method=sms, delay_minutes=2, by=alice)
    contacts.delete_contact_method(method=sms, by=alice)
    assert not NotificationRule.objects.filter(contact_method_id=sms.pk).exists()


# --- Working hours --------------------------------------------------------------------------------

def test_working_hours_are_stored_and_hold_low_urgency_pages_in_the_persons_zone(alice):
    contacts.set_working_hours(user=alice, hold_low_urgency=True, work_days=[4, 0, 1, 2, 3], work_start=time(9),
                               work_end=time(17), by=alice)
    profile = PagingProfile.objects.get(user=alice)
    assert (profile.hold_low_urgency, profile.work_days, profile.work_start, profile.work_end) == (
        True, [0, 1, 2, 3, 4], time(9), time(17))
    # Alice is in Berlin: a low-urgency page on Saturday waits for Monday 09:00 her time.
    saturday = datetime(2026, 3, 7, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    assert held_until(alice, saturday, {alice.pk: profile}) == datetime(2026, 3, 9, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    contacts.set_working_hours(user=alice, hold_low_urgency=False, work_days=[], work_start=None, work_end=None,
                               by=alice)
    profile.refresh_from_db()
    assert (profile.hold_low_urgency, profile.work_days, profile.work_start) == (False, [], None)


@pytest.mark.parametrize(("kwargs", "field", "says"), [
    ({"work_days": [7]}, "work_days", "from 0 (Monday) to 6 (Sunday)"),
    ({"work_end": None}, "work_end", "both the start and the end"),
    ({"work_end": time(9)}, "work_end", "must differ from the start"),
    ({"work_days": []}, "hold_low_urgency", "give your working days and hours"),
])
def test_working_hours_that_make_no_sense_are_refused(alice, kwargs, field, says):
    with pytest.raises(ValidationError) as refused:
        contacts.set_working_hours(**{"user": alice, "hold_low_urgency": True, "work_days": [0, 1],
                                      "work_start": time(9), "work_end": time(17), "by": alice, **kwargs})
    assert says in refused.value.message_dict[field][0]


def test_overnight_working_hours_are_allowed(alice):
    profile = contacts.set_working_hours(user=alice, hold_low_urgency=True, work_days=[0], work_start=time(22),
                                         work_end=time(6), by=alice)
    assert (profile.work_start, profile.work_end) == (time(22), time(6))
