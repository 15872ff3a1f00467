"""Acknowledging by texting a page's reply code back: signed by the provider, answered in TwiML, never a 500.

The provider's request is built as Twilio builds it: a form, signed with
``X-Twilio-Signature`` (base64 HMAC-SHA1 of the URL and the sorted
parameters, keyed by the account's auth token), computed here independently
of Vigil's own code.
"""

import base64
import hashlib
import hmac
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from incidents.models import IncidentStatus
from incidents.services import acknowledge_incident
from paging.models import EscalationRun, Notification
from paging.services.pages import page
from tests.factories import make_incident

URL = "/api/v1/paging/sms/inbound/"
BOB_PHONE = "+4915123456789"


def twilio_signature(token: str, url: str, params: dict) -> str:
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


PRIMARY_TOKEN = "primary-auth-token"  # noqa: S105 - the fake provider's (tests/paging/conftest.py)


def text_in(client, params: dict, *, token=PRIMARY_TOKEN, site="http://testserver", signature=None):
    """The provider posting a text Vigil's number received, as Twilio does (plus its other fields)."""
    params = {"MessageSid": "SM0123", "AccountSid": "ACprimary", "To": "+15005550006", **params}
    signature = twilio_signature(token, site + URL, params) if signature is None else signature
    return client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)


def said(response) -> str:
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - Vigil's own answer
    assert root.tag == "Response"
    return root.find("Message").text


@pytest.fixture
def incident(payments, alice):
    return make_incident(team=payments, by=alice, title="Checkout is failing")


@pytest.fixture
def paged(sms_providers, contact, incident, alice, bob) -> Notification:
    """Bob paged by SMS about the incident; the page carries its reply code."""
    contact(bob, "sms", BOB_PHONE, delay_minutes=0)
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    return Notification.objects.get(channel="sms")


def test_texting_the_code_back_acknowledges_as_the_person_paged(client, paged, incident, bob):
    response = text_in(client, {"From": BOB_PHONE, "Body": paged.reply_code})

    assert response.status_code == 200
    assert said(response) == (f"Vigil: acknowledged {incident.number} (Checkout is failing) as Bob Baker. "
                              "Escalation stopped.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.history.first().history_user == bob
    assert EscalationRun.objects.get(incident=incident).state == EscalationRun.State.ACKNOWLEDGED


@pytest.mark.parametrize("body", ["  {code}. ", "ack {code}", "ACK: {code}"])
def test_the_code_may_come_with_spaces_or_an_ack(client, paged, incident, body):
    text_in(client, {"From": BOB_PHONE, "Body": body.format(code=paged.reply_code)})

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_any_configured_providers_token_signs(client, paged, incident):
    response = text_in(client, {"From": BOB_PHONE, "Body": paged.reply_code}, token="backup-auth-token")

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_behind_a_proxy_the_public_url_is_the_one_signed(client, settings, paged, incident):
    settings.SITE_URL = "https://vigil.example.com"

    response = text_in(client, {"From": BOB_PHONE, "Body": paged.reply_code}, site="https://vigil.example.com")

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


@pytest.mark.parametrize("how", ["missing", "wrong-token", "tampered", "garbage"])
def test_a_request_not_signed_by_a_provider_is_refused(client, paged, incident, how):
    params = {"From": BOB_PHONE, "Body": paged.reply_code}
    signature = {
        "missing": "",
        "wrong-token": twilio_signature("not-our-token", "http://testserver" + URL, params),
        "tampered": twilio_signature(PRIMARY_TOKEN, "http://testserver" + URL, {**params, "Body": "0000"}),
        "garbage": "é\x01" * 40,
    }[how]

    response = client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED


def test_with_no_provider_configured_nothing_is_accepted(client, settings, paged, incident):
    settings.PAGING_SMS_PROVIDERS = []

    assert text_in(client, {"From": BOB_PHONE, "Body": paged.reply_code}).status_code == 403


def test_the_code_from_another_number_acknowledges_nothing(client, paged, incident):
    response = text_in(client, {"From": "+4915199999999", "Body": paged.reply_code})

    assert response.status_code == 200
    assert said(response) == (f"Vigil: no page sent to this number in the last 24 hours has the code "
                              f"{paged.reply_code}. Check the code, or acknowledge from the page's link.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED


def test_an_unknown_code_is_answered_politely(client, paged, incident):
    wrong = "1000" if paged.reply_code != "1000" else "1001"

    response = text_in(client, {"From": BOB_PHONE, "Body": wrong})

    assert response.status_code == 200 and f"has the code {wrong}" in said(response)


def test_a_text_that_is_no_code_says_what_to_send(client, paged):
    response = text_in(client, {"From": BOB_PHONE, "Body": "who is this?"})

    assert said(response) == "Vigil: to acknowledge an incident, reply with the code from its page (e.g. 1234)."


def test_an_incident_already_acknowledged_says_so(client, paged, incident, alice):
    acknowledge_incident(incident=incident, by=alice)

    response = text_in(client, {"From": BOB_PHONE, "Body": paged.reply_code})

    assert said(response) == f"Vigil: {incident.number} is already acknowledged; nothing to acknowledge."


def test_a_code_older_than_the_ack_window_no_longer_works(client, settings, sms_providers, contact, incident, alice,
                                                          bob):
    contact(bob, "sms", BOB_PHONE, delay_minutes=0)
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice,
         now=timezone.now() - timedelta(hours=settings.PAGING_ACK_LINK_HOURS, minutes=1))
    old = Notification.objects.get(channel="sms")

    response = text_in(client, {"From": BOB_PHONE, "Body": old.reply_code})

    assert "no page sent to this number in the last 24 hours" in said(response)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED


def test_the_most_recent_page_with_the_code_is_the_one_acknowledged(client, sms_providers, contact, payments, alice,
                                                                    bob, incident):
    contact(bob, "sms", BOB_PHONE, delay_minutes=0)
    newer = make_incident(team=payments, by=alice, title="Search is slow")
    for paged_about, minutes_ago in ((incident, 10), (newer, 1)):
        page(incident=paged_about, targets=[{"type": "user", "id": "bob"}], by=alice,
             now=timezone.now() - timedelta(minutes=minutes_ago))
    # Codes are four random digits: two pages to one phone may share one.
    Notification.objects.filter(channel="sms").update(reply_code="4242")

    text_in(client, {"From": BOB_PHONE, "Body": "4242"})

    newer.refresh_from_db()
    incident.refresh_from_db()
    assert (newer.status, incident.status) == (IncidentStatus.ACKNOWLEDGED, IncidentStatus.TRIGGERED)


@pytest.mark.parametrize("params", [
    {}, {"Body": "1234"}, {"From": BOB_PHONE}, {"From": "", "Body": ""}, {"From": "+49\x00", "Body": "1234"},
    {"From": BOB_PHONE, "Body": "１２３４"}, {"From": BOB_PHONE, "Body": "9" * 5000},
    {"From": "x" * 5000, "Body": "1234"}, {"From": BOB_PHONE, "Body": "<Response>&amp;"},
], ids=["empty", "no-from", "no-body", "blank", "nul", "fullwidth-digits", "long-body", "long-from", "xml"])
def test_whatever_is_texted_the_answer_is_never_a_500(client, paged, incident, params):
    response = text_in(client, params)

    assert response.status_code in (200, 400)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED


def test_a_body_that_is_not_utf8_is_refused_not_a_500(client, paged):
    response = client.post(URL, b"From=%2B4915123456789&Body=%FF%FE", content_type="application/x-www-form-urlencoded",
                           HTTP_X_TWILIO_SIGNATURE="x")

    assert response.status_code in (400, 403)


def test_a_get_is_not_a_text(client, sms_providers):
    assert client.get(URL).status_code == 405
