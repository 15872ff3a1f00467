""""Notification settings" (/paging/me/): a person's methods, rules, working hours and subscriptions, without JavaScript."""

import re
from datetime import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oncall.models import Membership
from paging.models import ContactMethod, NotificationRule, PagingProfile, Subscription
from paging.services import contacts
from paging.services.subscriptions import subscribe
from tests.config.test_unique_html_ids import _check as check_ids
from tests.factories import ServiceFactory, TeamFactory, severity

pytestmark = pytest.mark.django_db

PAGE = "/paging/me/"


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _post(client, url, data=None):
    """Post as the browser does without JavaScript, and follow the redirect back to the page."""
    response = client.post(url, data or {}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)], response.redirect_chain
    return response


def _verified(user, kind="sms", address="+4915112345678"):
    method = contacts.add_contact_method(user=user, kind=kind, address=address, by=user)
    ContactMethod.objects.filter(pk=method.pk).update(verified_at=timezone.now())
    method.refresh_from_db()
    return method


def test_the_page_shows_my_methods_and_rules_as_sentences(as_alice, alice):
    sms = _verified(alice)
    contacts.add_rule(user=alice, urgency="high", contact_method=sms, delay_minutes=2, by=alice)
    response = as_alice.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Notification settings" in html
    assert "High urgency: E-mail alice@example.com at once; SMS +4915112345678 after 2 min." in html
    assert "Low urgency: E-mail alice@example.com at once." in html
    assert "Europe/Berlin" in html  # the zone the working hours are read in
    assert 'href="/paging/me/"' in html  # the nav links here
    check_ids(PAGE, html)


def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_adding_a_method_sends_a_code_and_typing_it_verifies(as_alice, alice, deliver_queued):
    response = _post(as_alice, "/paging/me/methods/", {"kind": "email", "address": "alice@home.example",
                                                       "label": "home"})
    assert any("A 6-digit code is on its way" in m for m in _messages(response))
    method = ContactMethod.objects.get(user=alice, address="alice@home.example")
    assert not method.verified
    assert f'id="code-{method.pk}"' in response.content.decode()
    deliver_queued()
    [message] = [m for m in mail.outbox if "alice@home.example" in m.to]
    code = re.search(r"\b(\d{6})\b", message.body).group(1)

    wrong = _post(as_alice, f"/paging/me/methods/{method.pk}/verify/", {"code": "000000" if code != "000000" else "1"})
    assert any("That code is wrong" in m for m in _messages(wrong))
    right = _post(as_alice, f"/paging/me/methods/{method.pk}/verify/", {"code": code})
    assert any("is verified" in m for m in _messages(right))
    method.refresh_from_db()
    assert method.verified


def test_a_bad_address_comes_back_as_a_message(as_alice, alice):
    response = _post(as_alice, "/paging/me/methods/", {"kind": "sms", "address": "0151 1234"})
    assert any("international form" in m for m in _messages(response))
    assert not ContactMethod.objects.filter(user=alice, kind="sms").exists()


def test_send_code_again_too_soon_says_how_long_to_wait(as_alice, alice):
    method = contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=alice)
    first = _post(as_alice, f"/paging/me/methods/{method.pk}/send-code/")
    assert any("is on its way" in m for m in _messages(first))
    again = _post(as_alice, f"/paging/me/methods/{method.pk}/send-code/")
    assert any("less than a minute ago" in m for m in _messages(again))


def test_send_test_reaches_the_method(as_alice, alice, deliver_queued):
    method = ContactMethod.objects.get(user=alice)
    response = _post(as_alice, f"/paging/me/methods/{method.pk}/test/")
    assert any("A test message is on its way" in m for m in _messages(response))
    deliver_queued()
    assert [m.subject for m in mail.outbox] == ["Vigil test message"]


def test_rules_are_added_and_deleted_from_the_page(as_alice, alice):
    sms = _verified(alice)
    response = _post(as_alice, "/paging/me/rules/", {"urgency": "low", "contact_method": sms.pk,
                                                     "delay_minutes": "120"})
    assert "Low urgency: E-mail alice@example.com at once; SMS +4915112345678 after 2 hours." in \
        response.content.decode()
    rule = NotificationRule.objects.get(user=alice, contact_method=sms)
    _post(as_alice, f"/paging/me/rules/{rule.pk}/delete/")
    assert not NotificationRule.objects.filter(pk=rule.pk).exists()


def test_an_unverified_method_is_not_offered_for_rules_and_refused(as_alice, alice):
    sms = contacts.add_contact_method(user=alice, kind="sms", address="+4915112345678", by=alice)
    response = _post(as_alice, "/paging/me/rules/", {"urgency": "high", "contact_method": sms.pk,
                                                     "delay_minutes": "0"})
    assert any("Select a valid choice" in m for m in _messages(response))
    assert not NotificationRule.objects.filter(contact_method=sms).exists()


def test_deleting_a_method_says_pages_fall_back_to_the_account_email(as_alice, alice):
    sms = _verified(alice)
    response = _post(as_alice, f"/paging/me/methods/{sms.pk}/delete/")
    assert any("pages go to your account e-mail" in m for m in _messages(response))
    assert not ContactMethod.objects.filter(pk=sms.pk).exists()


def test_working_hours_round_trip(as_alice, alice):
    response = _post(as_alice, "/paging/me/hours/", {"hold_low_urgency": "on", "work_days": ["0", "1", "2"],
                                                     "work_start": "08:30", "work_end": "17:00"})
    assert any("Working hours saved (in Europe/Berlin)" in m for m in _messages(response))
    profile = PagingProfile.objects.get(user=alice)
    assert (profile.hold_low_urgency, profile.work_days, profile.work_start, profile.work_end) == (
        True, [0, 1, 2], time(8, 30), time(17))
    html = response.content.decode()
    assert "Monday, Tuesday, Wednesday, 08:30 to 17:00 Europe/Berlin" in html
    assert 'value="08:30"' in html  # the form shows what is stored

    refused = _post(as_alice, "/paging/me/hours/", {"hold_low_urgency": "on", "work_start": "09:00",
                                                    "work_end": "09:00"})
    assert any("must differ from the start" in m for m in _messages(refused))


def test_subscribe_to_a_service_i_can_see_and_unsubscribe(as_alice, alice, checkout):
    response = _post(as_alice, "/paging/me/subscriptions/", {"target": "service:checkout", "min_severity": "SEV2"})
    assert any("Subscribed to Checkout API from SEV2" in m for m in _messages(response))
    sub = Subscription.objects.get(user=alice)
    assert (sub.service, sub.min_severity.name) == (checkout, "SEV2")
    assert "SEV2 or worse" in response.content.decode()
    _post(as_alice, f"/paging/me/subscriptions/{sub.pk}/delete/")
    assert not Subscription.objects.filter(user=alice).exists()


def test_a_team_i_cannot_see_is_not_offered(as_alice, alice, charlie):
    response = as_alice.get(PAGE)
    assert "team:search" not in response.content.decode()
    refused = _post(as_alice, "/paging/me/subscriptions/", {"target": "team:search", "min_severity": "SEV1"})
    assert any("Select a valid choice" in m for m in _messages(refused))
    assert not Subscription.objects.filter(user=alice).exists()


def test_slack_member_id_round_trip(as_alice, alice):
    response = _post(as_alice, "/paging/me/slack/", {"slack_user_id": "U012AB3CD"})
    assert any("Slack member id set to U012AB3CD" in m for m in _messages(response))
    alice.refresh_from_db()
    assert alice.slack_user_id == "U012AB3CD"
    bad = _post(as_alice, "/paging/me/slack/", {"slack_user_id": "alice"})
    assert any("is not a Slack member id" in m for m in _messages(bad))


def test_another_persons_method_rule_or_subscription_is_a_404(as_alice, bob, checkout):
    bobs_method = ContactMethod.objects.get(user=bob)
    bobs_rule = NotificationRule.objects.filter(user=bob).first()
    bobs_sub = subscribe(user=bob, service=checkout, min_severity=severity("SEV1"), by=bob)
    for url, data in [(f"/paging/me/methods/{bobs_method.pk}/verify/", {"code": "123456"}),
                      (f"/paging/me/methods/{bobs_method.pk}/send-code/", {}),
                      (f"/paging/me/methods/{bobs_method.pk}/test/", {}),
                      (f"/paging/me/methods/{bobs_method.pk}/delete/", {}),
                      (f"/paging/me/rules/{bobs_rule.pk}/delete/", {}),
                      (f"/paging/me/subscriptions/{bobs_sub.pk}/delete/", {})]:
        assert as_alice.post(url, data).status_code == 404, url
    assert ContactMethod.objects.filter(pk=bobs_method.pk).exists()
    assert NotificationRule.objects.filter(pk=bobs_rule.pk).exists()
    assert Subscription.objects.filter(pk=bobs_sub.pk).exists()


def test_forms_carry_a_csrf_token_and_a_post_without_one_is_refused(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    html = browser.get(PAGE).content.decode()
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, flags=re.S)
    assert len(forms) >= 6 and all("csrfmiddlewaretoken" in form for form in forms)
    response = browser.post("/paging/me/methods/", {"kind": "sms", "address": "+4915112345678"})
    assert response.status_code == 403
    assert not ContactMethod.objects.filter(user=alice, kind="sms").exists()


def test_a_get_of_a_form_url_is_a_405(as_alice):
    assert as_alice.get("/paging/me/methods/").status_code == 405


def _fill(alice, payments, n, start):
    team = TeamFactory(slug=f"extra-{start}", name=f"Extra {start}")
    Membership.objects.create(team=team, user=alice)
    for i in range(start, start + n):
        method = _verified(alice, address=f"+49151000000{i:02d}")
        contacts.add_rule(user=alice, urgency="high" if i % 2 else "low", contact_method=method, delay_minutes=i,
                          by=alice)
        service = ServiceFactory(slug=f"svc-{i}", name=f"Service {i}", team=payments)
        subscribe(user=alice, service=service, min_severity=severity("SEV3"), by=alice)
    contacts.add_contact_method(user=alice, kind="webhook", address=f"https://ops.example.com/{start}", by=alice)


def test_the_page_costs_the_same_queries_with_few_or_many_rows(as_alice, alice, payments,
                                                               django_assert_max_num_queries):
    _fill(alice, payments, 2, 0)
    with CaptureQueriesContext(connection) as few:
        assert as_alice.get(PAGE).status_code == 200
    _fill(alice, payments, 12, 10)
    with django_assert_max_num_queries(len(few)):
        response = as_alice.get(PAGE)
    assert response.content.decode().count("Send test") >= 15
