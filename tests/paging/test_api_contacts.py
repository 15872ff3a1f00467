"""Contact methods and notification rules over the API (API.md: users/{username}/contact-methods|notification-rules/)."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paging.models import ContactMethod, NotificationRule
from paging.services import contacts

pytestmark = pytest.mark.django_db

METHODS = "/api/v1/users/{}/contact-methods/"
RULES = "/api/v1/users/{}/notification-rules/"


def _verified(user, kind="sms", address="+4915112345678"):
    method = contacts.add_contact_method(user=user, kind=kind, address=address, by=user)
    ContactMethod.objects.filter(pk=method.pk).update(verified_at=timezone.now())
    return method


# --- Shapes ---------------------------------------------------------------------------------------

def test_a_person_lists_their_contact_methods_in_the_documented_shape(api, alice):
    response = api.as_user(alice).get(METHODS.format("alice"))
    assert response.status_code == 200
    [method] = response.data["results"]
    assert {"id", "kind", "address", "verified", "label"} <= set(method)
    assert (method["kind"], method["address"], method["verified"], method["secret"]) == (
        "email", "alice@example.com", True, None)
    assert response.data["count"] == 1


def test_adding_a_method_answers_201_unverified(api, alice):
    response = api.as_user(alice).post(METHODS.format("alice"), {"kind": "sms", "address": "+49 151 12345678",
                                                                 "label": "work phone"}, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["kind"], response.data["address"], response.data["label"], response.data["verified"]) == (
        "sms", "+4915112345678", "work phone", False)
    assert ContactMethod.objects.filter(user=alice, kind="sms", verified_at__isnull=True).count() == 1


def test_a_webhooks_secret_is_shown_to_its_owner_only(api, alice, sam):
    response = api.as_user(alice).post(METHODS.format("alice"), {"kind": "webhook",
                                                                 "address": "https://ops.example.com/hook"},
                                       format="json")
    secret = ContactMethod.objects.get(pk=response.data["id"]).secret
    assert response.data["secret"] == secret and len(secret) == 64
    by_staff = api.as_user(sam).get(f"{METHODS.format('alice')}{response.data['id']}/")
    assert by_staff.status_code == 200 and by_staff.data["secret"] is None


def test_the_whole_verification_flow_over_the_api(api, alice, deliver_queued):
    client = api.as_user(alice)
    created = client.post(METHODS.format("alice"), {"kind": "email", "address": "alice@home.example"}, format="json")
    url = f"{METHODS.format('alice')}{created.data['id']}/"
    sent = client.post(f"{url}send-code/")
    assert sent.status_code == 202, sent.data
    assert "alice@home.example" in sent.data["detail"] and sent.data["expires_at"]
    again = client.post(f"{url}send-code/")
    assert again.status_code == 429 and 1 <= int(again["Retry-After"]) <= 60
    deliver_queued()
    [message] = [m for m in mail.outbox if "alice@home.example" in m.to]
    code = re.search(r"\b(\d{6})\b", message.body).group(1)

    wrong = client.post(f"{url}verify/", {"code": f"{(int(code) + 1) % 1_000_000:06d}"}, format="json")
    assert wrong.status_code == 400
    assert wrong.data["code"] == "invalid" and "That code is wrong" in wrong.data["detail"]
    missing = client.post(f"{url}verify/", {}, format="json")
    assert (missing.status_code, missing.data["code"]) == (400, "invalid")
    assert missing.data["non_field_errors"] == ["code: This field is required."]

    right = client.post(f"{url}verify/", {"code": code}, format="json")
    assert right.status_code == 200 and right.data["verified"] is True and right.data["verified_at"]


def test_a_test_message_is_accepted_then_rate_limited(api, alice, deliver_queued):
    client = api.as_user(alice)
    method = ContactMethod.objects.get(user=alice)
    url = f"{METHODS.format('alice')}{method.pk}/test/"
    first = client.post(url)
    assert first.status_code == 202 and first.data["notification"]
    assert client.post(url).status_code == 429
    deliver_queued()
    assert [m.subject for m in mail.outbox if alice.email in m.to] == ["Vigil test message"]


def test_patch_changes_the_label_and_a_new_address_is_unverified(api, alice):
    method = _verified(alice)
    url = f"{METHODS.format('alice')}{method.pk}/"
    client = api.as_user(alice)
    labelled = client.patch(url, {"label": "desk"}, format="json")
    assert (labelled.status_code, labelled.data["label"], labelled.data["verified"]) == (200, "desk", True)
    moved = client.patch(url, {"address": "+4915199999999"}, format="json")
    assert (moved.status_code, moved.data["address"], moved.data["verified"]) == (200, "+4915199999999", False)


def test_delete_removes_the_method_and_its_rules(api, alice):
    method = _verified(alice)
    contacts.add_rule(user=alice, urgency="high", contact_method=method, delay_minutes=2, by=alice)
    response = api.as_user(alice).delete(f"{METHODS.format('alice')}{method.pk}/")
    assert response.status_code == 204
    assert not ContactMethod.objects.filter(pk=method.pk).exists()
    assert not NotificationRule.objects.filter(contact_method_id=method.pk).exists()


def test_rules_list_and_create_in_the_documented_shape(api, alice):
    sms = _verified(alice)
    client = api.as_user(alice)
    created = client.post(RULES.format("alice"), {"urgency": "high", "contact_method": sms.pk, "delay_minutes": 2},
                          format="json")
    assert created.status_code == 201, created.data
    assert set(created.data) == {"id", "urgency", "contact_method", "delay_minutes"}
    listed = client.get(RULES.format("alice"))
    assert [(r["urgency"], r["contact_method"], r["delay_minutes"]) for r in listed.data["results"]] == [
        ("high", ContactMethod.objects.get(user=alice, kind="email").pk, 0), ("high", sms.pk, 2),
        ("low", ContactMethod.objects.get(user=alice, kind="email").pk, 0)]
    deleted = client.delete(f"{RULES.format('alice')}{created.data['id']}/")
    assert deleted.status_code == 204
    assert not NotificationRule.objects.filter(pk=created.data["id"]).exists()


# --- 400s with messages ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field", "says"), [
    ({"kind": "sms", "address": "0151 1234"}, "address", "international form"),
    ({"kind": "webhook", "address": "http://ops.example.com/"}, "address", "use an https:// URL"),
    ({"kind": "slack", "address": "alice"}, "address", "Slack member id"),
    ({"kind": "email", "address": "alice@example.com"}, "address", "already one of this person's"),
    ({"kind": "fax", "address": "+4915112345678"}, "kind", "not a valid choice"),
    ({"kind": "sms", "address": 4915112345678}, "address", "Give a string"),
])
def test_a_bad_method_is_a_400_naming_what_to_fix(api, alice, body, field, says):
    response = api.as_user(alice).post(METHODS.format("alice"), body, format="json")
    assert response.status_code == 400
    assert says in " ".join(response.data[field]) and response.data["detail"].startswith("Invalid input:")


def test_a_rule_on_an_unverified_method_is_a_400(api, alice):
    sms = contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=alice)
    response = api.as_user(alice).post(RULES.format("alice"), {"urgency": "high", "contact_method": sms.pk},
                                       format="json")
    assert response.status_code == 400
    assert "Verify SMS +4915112345678 first" in response.data["contact_method"][0]


def test_a_rule_on_another_persons_method_is_a_400_as_if_unknown(api, alice, bob):
    bobs = _verified(bob)
    response = api.as_user(alice).post(RULES.format("alice"), {"urgency": "low", "contact_method": bobs.pk,
                                                               "delay_minutes": 1441}, format="json")
    assert response.status_code == 400
    assert response.data["contact_method"] == [f"No contact method {bobs.pk} among this person's; list them at "
                                               "contact-methods/."]
    assert "delay_minutes" in response.data


# --- Who may --------------------------------------------------------------------------------------

def test_another_persons_methods_and_rules_are_a_404_even_to_a_teammate(api, alice, bob):
    client = api.as_user(bob)
    method = ContactMethod.objects.get(user=alice)
    rule = NotificationRule.objects.filter(user=alice).first()
    for method_name, url in [
        ("get", METHODS.format("alice")), ("post", METHODS.format("alice")),
        ("get", f"{METHODS.format('alice')}{method.pk}/"), ("patch", f"{METHODS.format('alice')}{method.pk}/"),
        ("delete", f"{METHODS.format('alice')}{method.pk}/"), ("post", f"{METHODS.format('alice')}{method.pk}/test/"),
        ("post", f"{METHODS.format('alice')}{method.pk}/send-code/"),
        ("post", f"{METHODS.format('alice')}{method.pk}/verify/"),
        ("get", RULES.format("alice")), ("delete", f"{RULES.format('alice')}{rule.pk}/"),
    ]:
        response = getattr(client, method_name)(url, {}, format="json")
        assert response.status_code == 404, (method_name, url)
        assert response.data["code"] == "not_found"
    assert ContactMethod.objects.filter(pk=method.pk).exists() and NotificationRule.objects.filter(pk=rule.pk).exists()


def test_a_method_of_someone_else_under_ones_own_name_is_a_404(api, alice, bob):
    bobs = ContactMethod.objects.get(user=bob)
    assert api.as_user(alice).get(f"{METHODS.format('alice')}{bobs.pk}/").status_code == 404


def test_staff_manage_anyones_methods_and_rules(api, alice, sam):
    client = api.as_user(sam)
    created = client.post(METHODS.format("alice"), {"kind": "voice", "address": "+14155550100"}, format="json")
    assert created.status_code == 201 and ContactMethod.objects.get(pk=created.data["id"]).user == alice
    email = ContactMethod.objects.get(user=alice, kind="email")
    rule = client.post(RULES.format("alice"), {"urgency": "low", "contact_method": email.pk, "delay_minutes": 10},
                       format="json")
    assert rule.status_code == 201
    assert client.delete(f"{METHODS.format('alice')}{created.data['id']}/").status_code == 204


def test_an_unknown_person_is_a_404_and_no_credentials_a_401(api, alice):
    assert api.as_user(alice).get(METHODS.format("nobody")).status_code == 404
    api.credentials()
    assert api.get(METHODS.format("alice")).status_code == 401


# --- Slack member id on people --------------------------------------------------------------------

def test_a_person_sets_their_slack_member_id_and_others_may_not(api, alice, bob, sam):
    response = api.as_user(alice).patch("/api/v1/users/alice/", {"slack_user_id": "U012AB3CD"}, format="json")
    assert response.status_code == 200 and response.data["slack_user_id"] == "U012AB3CD"
    assert api.as_user(alice).get("/api/v1/users/alice/").data["slack_user_id"] == "U012AB3CD"
    refused = api.as_user(bob).patch("/api/v1/users/alice/", {"slack_user_id": "U999"}, format="json")
    assert refused.status_code == 403
    taken = api.as_user(sam).patch("/api/v1/users/bob/", {"slack_user_id": "U012AB3CD"}, format="json")
    assert taken.status_code == 400 and "Another person already has this Slack member id." in taken.data["detail"]
    bad = api.as_user(alice).patch("/api/v1/users/alice/", {"slack_user_id": "alice"}, format="json")
    assert bad.status_code == 400 and "Not a Slack member id" in bad.data["slack_user_id"][0]
    cleared = api.as_user(sam).patch("/api/v1/users/alice/", {"slack_user_id": ""}, format="json")
    assert cleared.status_code == 200 and cleared.data["slack_user_id"] == ""


def test_staff_create_a_person_with_a_slack_member_id(api, sam):
    response = api.as_user(sam).post("/api/v1/users/", {"username": "erin", "email": "erin@example.com",
                                                        "slack_user_id": "W0123ABCD"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["slack_user_id"] == "W0123ABCD"


# --- Constant queries -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [METHODS, RULES])
def test_lists_cost_the_same_queries_with_few_or_many_rows(api, alice, django_assert_max_num_queries, url):
    client = api.as_user(alice)
    _verified(alice, address="+4915100000000")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url.format("alice")).status_code == 200
    for i in range(1, 15):
        method = _verified(alice, address=f"+49151000000{i:02d}")
        contacts.add_rule(user=alice, urgency="high", contact_method=method, delay_minutes=i, by=alice)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url.format("alice"))
    assert response.data["count"] >= 15
