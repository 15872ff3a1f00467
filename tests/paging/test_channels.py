"""Each channel's real client code against a local fake server: what it sends, and how it reads the answer.

E-mail goes through Django's SMTP backend to an aiosmtpd relay; Slack,
webhooks, SMS and voice through httpx to ``tests.fakes.FakeHTTPServer``.
What a test checks is what the receiver got and what the person's
notification says afterwards (sent, retried later, failed for good, and why).
"""

import base64
import hashlib
import hmac
import re
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from config import settings as vigil_settings
from paging.links import read_ack_token
from paging.models import Notification
from paging.services.delivery import deliver
from paging.services.notify import email_person, message
from paging.services.pages import page
from tests.factories import make_incident
from tests.fakes import Answer
from tests.net import free_port


@pytest.fixture
def incident(payments, alice, bob):
    return make_incident(team=payments, by=alice, title="Checkout <is> failing & slow", sev="SEV1")


def page_bob(incident, alice) -> None:
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice, message="Card processor is down")


def acknowledges(text: str) -> int:
    """The notification whose one-click link ``text`` carries (the link is signed, with its time)."""
    return read_ack_token(re.search(r"http://127\.0\.0\.1:8000/paging/ack/([^/\s]+)/", text).group(1))


def deliver_by(channel: str) -> Notification:
    """Deliver the one notification of ``channel`` and return it as stored afterwards."""
    notification = Notification.objects.get(channel=channel)
    deliver(notification.pk)
    notification.refresh_from_db()
    return notification


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """The README's recipe for a webhook receiver, verbatim."""
    timestamp = headers.get("X-Vigil-Timestamp", "")
    signature = headers.get("X-Vigil-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False  # missing, or too old (a replay) or too far ahead
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# --- E-mail -------------------------------------------------------------------------------

def test_a_page_by_email_reaches_the_smtp_server_with_its_link(smtp_server, incident, alice, bob):
    page_bob(incident, alice)

    sent = deliver_by("email")

    (mail,) = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["bob@example.com"]
    assert mail["To"] == "bob@example.com"
    assert mail["Subject"].startswith(f"[SEV1] {incident.number} Checkout <is> failing & slow")
    assert mail["X-Vigil-Notification"] == str(sent.pk)
    text = mail.get_content()
    assert "Message: Card processor is down" in text
    assert acknowledges(text) == sent.pk
    assert (sent.status, sent.provider, sent.attempts, sent.last_error) == ("sent", "smtp", 1, "")


def test_a_mailbox_the_server_refuses_is_not_retried(smtp_server, incident, alice, bob):
    smtp_server.refuse["bob@example.com"] = "550 5.1.1 No such user here"
    page_bob(incident, alice)

    failed = deliver_by("email")

    assert failed.status == "failed" and failed.next_attempt_at is None
    assert "refused bob@example.com: 550 5.1.1 No such user here" in failed.last_error
    assert smtp_server.messages == []


def test_an_attachment_goes_as_its_own_part_with_its_content_type(smtp_server, bob):
    invite = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    email_person(user=bob, kind=Notification.Kind.TEST, subject="With an invitation", body="See the attachment.",
                 attachments=[{"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST",
                               "content": invite}])

    assert deliver_by("email").status == "sent"

    (mail,) = smtp_server.messages
    assert mail.get_content_type() == "multipart/mixed"
    text, calendar = [p for p in mail.walk() if not p.is_multipart()]
    assert text.get_content_type() == "text/plain" and text.get_content().strip() == "See the attachment."
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "invite.ics" and calendar.get_content() == invite  # CRLF kept, as iCalendar wants


def test_a_binary_attachment_fails_without_a_retry(smtp_server, bob):
    email_person(user=bob, kind=Notification.Kind.TEST, subject="A picture", body="",
                 attachments=[{"filename": "a.png", "content_type": "image/png", "content": "…"}])

    failed = deliver_by("email")

    assert failed.status == "failed" and "only text files" in failed.last_error and smtp_server.messages == []


def test_a_temporary_refusal_is_retried(smtp_server, incident, alice, bob):
    smtp_server.refuse["bob@example.com"] = "451 4.3.0 Mailbox busy, try later"
    page_bob(incident, alice)

    later = deliver_by("email")

    assert later.status == "queued" and later.next_attempt_at > timezone.now()
    assert "451 4.3.0 Mailbox busy" in later.last_error


def test_a_mail_server_that_is_down_is_retried(settings, incident, alice, bob):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    page_bob(incident, alice)

    later = deliver_by("email")

    assert later.status == "queued"
    assert f"Could not reach the mail server 127.0.0.1:{settings.EMAIL_PORT}" in later.last_error


# --- Slack -------------------------------------------------------------------------------

def test_a_slack_member_gets_a_direct_message_from_the_bot(slack_api, contact, incident, alice, bob):
    contact(bob, "slack", "U024BE7LH", delay_minutes=0)
    page_bob(incident, alice)

    sent = deliver_by("slack")

    (request,) = slack_api.requests
    assert (request.method, request.path) == ("POST", "/chat.postMessage")
    assert request.headers["Authorization"] == "Bearer xoxb-test-bot-token"
    body = request.json()
    assert set(body) == {"channel", "text"} and body["channel"] == "U024BE7LH"
    # Slack's escaping: the title can't open a link or a mention.
    assert body["text"].startswith(f"*[SEV1] {incident.number} Checkout &lt;is&gt; failing &amp; slow")
    assert acknowledges(body["text"]) == sent.pk
    assert (sent.status, sent.provider) == ("sent", "slack")


@pytest.mark.parametrize(("answer", "retried", "says"), [
    (Answer(200, {"ok": False, "error": "channel_not_found"}), False, "channel_not_found (no member with this id"),
    (Answer(200, {"ok": False, "error": "invalid_auth"}), False, "SLACK_BOT_TOKEN is not a valid token"),
    (Answer(200, {"ok": False, "error": "not_authed"}), False, "set SLACK_BOT_TOKEN"),
    (Answer(200, {"ok": False, "error": "ratelimited"}), True, "Slack refused the message: ratelimited"),
    (Answer(429, "", {"Retry-After": "30"}), True, "Slack answered 429"),
    (Answer(503, "upstream trouble"), True, "Slack answered 503"),
], ids=["channel_not_found", "invalid_auth", "not_authed", "ratelimited", "http-429", "http-503"])
def test_slack_answering_ok_false_is_not_a_delivery(slack_api, contact, incident, alice, bob, answer, retried, says):
    slack_api.answer(answer)
    contact(bob, "slack", "U024BE7LH", delay_minutes=0)
    page_bob(incident, alice)

    after = deliver_by("slack")

    assert after.status == ("queued" if retried else "failed")
    assert says in after.last_error


def test_a_slack_member_without_a_bot_token_says_to_set_it(slack_api, settings, contact, incident, alice, bob):
    settings.SLACK_BOT_TOKEN = ""
    contact(bob, "slack", "W0123ABCD", delay_minutes=0)
    page_bob(incident, alice)

    failed = deliver_by("slack")

    assert failed.status == "failed" and "set SLACK_BOT_TOKEN" in failed.last_error
    assert slack_api.requests == []


def test_an_incoming_webhook_gets_the_text_without_a_token(http_server, settings, contact, incident, alice, bob):
    settings.SLACK_BOT_TOKEN = ""
    hook = http_server(Answer(200, "ok"))
    contact(bob, "slack", f"{hook.url}/services/T000/B000/XXXX", delay_minutes=0)
    page_bob(incident, alice)

    sent = deliver_by("slack")

    (request,) = hook.requests
    assert request.path == "/services/T000/B000/XXXX"
    assert "Authorization" not in request.headers
    assert set(request.json()) == {"text"} and incident.number in request.json()["text"]
    assert sent.status == "sent"


def test_a_revoked_incoming_webhook_is_not_retried(http_server, contact, incident, alice, bob):
    hook = http_server(Answer(404, "no_service"))
    contact(bob, "slack", f"{hook.url}/services/T000/B000/XXXX", delay_minutes=0)
    page_bob(incident, alice)

    failed = deliver_by("slack")

    assert failed.status == "failed" and "answered 404 Not Found (no_service)" in failed.last_error


# --- Webhooks ----------------------------------------------------------------------------

def test_a_webhook_gets_the_page_as_signed_json(http_server, contact, incident, alice, bob):
    receiver = http_server(Answer(204))
    method = contact(bob, "webhook", f"{receiver.url}/vigil", delay_minutes=0)
    page_bob(incident, alice)

    sent = deliver_by("webhook")

    (request,) = receiver.requests
    assert request.path == "/vigil" and request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Vigil-Delivery"] == str(sent.pk)
    assert verify(method.secret, request.headers, request.body)
    assert not verify("another-secret", request.headers, request.body)
    assert not verify(method.secret, request.headers, request.body + b" ")
    body = request.json()
    assert body == {
        "id": sent.pk, "kind": "page", "subject": sent.subject, "text": sent.body,
        "incident": {"number": incident.number, "title": "Checkout <is> failing & slow", "severity": "SEV1",
                     "status": "triggered", "url": f"http://127.0.0.1:8000/incidents/{incident.number}/"},
        "ack_url": body["ack_url"], "sent_at": body["sent_at"],
    }
    assert acknowledges(body["ack_url"]) == sent.pk
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["sent_at"])
    assert abs(int(request.headers["X-Vigil-Timestamp"]) - time.time()) < 5
    assert sent.status == "sent"


def test_a_stale_signature_fails_the_documented_check(http_server, contact, incident, alice, bob, monkeypatch):
    receiver = http_server(Answer(200))
    method = contact(bob, "webhook", f"{receiver.url}/vigil", delay_minutes=0)
    page_bob(incident, alice)
    deliver_by("webhook")

    (request,) = receiver.requests
    monkeypatch.setattr(time, "time", lambda: int(request.headers["X-Vigil-Timestamp"]) + 301)
    assert not verify(method.secret, request.headers, request.body)


def test_a_message_about_no_incident_carries_null_incident_and_link(http_server, contact, bob):
    receiver = http_server(Answer(200))
    method = contact(bob, "webhook", f"{receiver.url}/vigil")
    message(user=bob, method=method, kind="test", subject="Test from Vigil", body="It works.")

    deliver_by("webhook")

    body = receiver.requests[0].json()
    assert (body["kind"], body["incident"], body["ack_url"], body["text"]) == ("test", None, None, "It works.")


@pytest.mark.parametrize(("status", "retried"), [
    (500, True), (502, True), (503, True), (408, True), (429, True),
    (400, False), (401, False), (404, False), (410, False), (301, False),
])
def test_a_webhook_error_is_retried_only_when_it_may_pass(http_server, contact, bob, status, retried):
    receiver = http_server(Answer(status, headers={"Location": "https://elsewhere.example/"} if status == 301 else {}))
    method = contact(bob, "webhook", f"{receiver.url}/vigil")
    message(user=bob, method=method, kind="test", subject="Test", body="x")

    after = deliver_by("webhook")

    assert after.status == ("queued" if retried else "failed")
    assert f"answered {status}" in after.last_error


@pytest.mark.parametrize("address", ["ftp://files.example/hook", "not a url", "http://[::1/hook"])
def test_a_webhook_address_that_is_no_http_url_fails_at_once(contact, bob, address):
    method = contact(bob, "webhook", address)
    message(user=bob, method=method, kind="test", subject="Test", body="x")

    failed = deliver_by("webhook")

    assert failed.status == "failed" and "is not a" in failed.last_error and "URL" in failed.last_error


def test_a_webhook_that_does_not_answer_in_time_is_retried(http_server, settings, contact, bob):
    settings.PAGING_HTTP_TIMEOUT_SECONDS = 0.3
    receiver = http_server(Answer(200, delay=2))
    method = contact(bob, "webhook", f"{receiver.url}/vigil")
    message(user=bob, method=method, kind="test", subject="Test", body="x")

    after = deliver_by("webhook")

    assert after.status == "queued" and "did not answer within 0.3 s" in after.last_error


# --- SMS and voice -------------------------------------------------------------------------

def test_an_sms_is_posted_as_a_twilio_form_with_basic_auth(sms_providers, contact, incident, alice, bob):
    contact(bob, "sms", "+4915123456789", delay_minutes=0)
    page_bob(incident, alice)

    sent = deliver_by("sms")

    (request,) = sms_providers.primary.requests
    assert request.path == "/2010-04-01/Accounts/ACprimary/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"ACprimary:primary-auth-token").decode()
    form = request.form()
    assert (form["To"], form["From"]) == ("+4915123456789", "+15005550006")
    assert form["Body"] == sent.body and f"Or reply {sent.reply_code} to acknowledge." in form["Body"]
    assert (sent.status, sent.provider) == ("sent", "primary")
    assert sms_providers.backup.requests == []


@pytest.mark.parametrize("failure", [Answer(500, {"code": 20500, "message": "Internal Server Error"}),
                                     Answer(401, {"code": 20003, "message": "Authenticate"}),
                                     Answer(403, {"code": 20003, "message": "Forbidden"}),
                                     Answer(200, delay=2)],
                         ids=["500", "401", "403", "timeout"])
def test_a_failing_provider_is_skipped_for_the_next(sms_providers, settings, contact, incident, alice, bob, failure):
    settings.PAGING_HTTP_TIMEOUT_SECONDS = 0.3
    sms_providers.primary.answer(failure)
    contact(bob, "sms", "+4915123456789", delay_minutes=0)
    page_bob(incident, alice)

    sent = deliver_by("sms")

    assert len(sms_providers.primary.requests) == 1
    (request,) = sms_providers.backup.requests
    assert request.path == "/2010-04-01/Accounts/ACbackup/Messages.json"
    assert request.form()["From"] == "+15005550007"
    assert (sent.status, sent.provider, sent.attempts) == ("sent", "backup", 1)


def test_when_every_provider_fails_the_error_names_each(sms_providers, contact, incident, alice, bob):
    sms_providers.primary.answer(Answer(503, "down"))
    sms_providers.backup.answer(Answer(401, {"code": 20003, "message": "Authenticate"}))
    contact(bob, "sms", "+4915123456789", delay_minutes=0)
    page_bob(incident, alice)

    after = deliver_by("sms")

    assert after.status == "queued"  # primary's 503 may pass
    assert after.last_error == "No provider took the SMS: primary answered 503; backup answered 401: 20003 Authenticate"
    assert after.provider == ""


def test_when_every_provider_refuses_its_credentials_it_is_not_retried(sms_providers, contact, bob):
    for server in (sms_providers.primary, sms_providers.backup):
        server.answer(Answer(401, {"code": 20003, "message": "Authenticate"}))
    method = contact(bob, "sms", "+4915123456789")
    message(user=bob, method=method, kind="test", subject="Test", body="Test from Vigil")

    assert deliver_by("sms").status == "failed"


@pytest.mark.parametrize("address", ["015123456789", "+49 151 23456789", "+49-151-2345", "call me", "+0123456789"])
def test_a_number_not_in_e164_fails_at_once_saying_how_to_write_it(sms_providers, contact, bob, address):
    method = contact(bob, "sms", address)
    message(user=bob, method=method, kind="test", subject="Test", body="Test from Vigil")

    failed = deliver_by("sms")

    assert failed.status == "failed" and "is not an E.164 phone number: write + and the country code" in failed.last_error
    assert sms_providers.primary.requests == []


def test_without_a_provider_sms_says_what_to_set(settings, contact, bob):
    settings.PAGING_SMS_PROVIDERS = []
    method = contact(bob, "voice", "+4915123456789")
    message(user=bob, method=method, kind="test", subject="Test", body="Test from Vigil")

    failed = deliver_by("voice")

    assert failed.status == "failed" and "set PAGING_SMS_PROVIDERS" in failed.last_error


def test_a_voice_call_speaks_the_page_and_its_reply_code(sms_providers, contact, incident, alice, bob):
    contact(bob, "voice", "+4915123456789", delay_minutes=0)
    page_bob(incident, alice)

    sent = deliver_by("voice")

    (request,) = sms_providers.primary.requests
    assert request.path == "/2010-04-01/Accounts/ACprimary/Calls.json"
    form = request.form()
    assert (form["To"], form["From"]) == ("+4915123456789", "+15005550006")
    twiml = form["Twiml"]
    assert twiml.startswith('<Response><Say loop="2">This is Vigil. ') and twiml.endswith("</Say></Response>")
    assert f"{incident.number}: Checkout &lt;is&gt; failing &amp; slow." in twiml
    assert "Message: Card processor is down." in twiml
    assert f"To acknowledge, text {' '.join(sent.reply_code)} back to this number." in twiml
    assert "http" not in twiml
    assert (sent.status, sent.provider) == ("sent", "primary")


# --- Settings ------------------------------------------------------------------------------

def test_twilio_variables_add_twilio_after_the_listed_providers(monkeypatch):
    monkeypatch.setenv("PAGING_SMS_PROVIDERS", '[{"name": "backup-co", "base_url": "https://sms.example/", '
                                               '"account_sid": "AC1", "auth_token": "t", "from": "+15550001"}]')
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC2")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    monkeypatch.setenv("TWILIO_FROM", "+15550002")

    providers = vigil_settings._sms_providers()

    assert [(p["name"], p["base_url"]) for p in providers] == [("backup-co", "https://sms.example"),
                                                                ("twilio", "https://api.twilio.com")]


@pytest.mark.parametrize(("value", "says"), [
    ("{not json", "PAGING_SMS_PROVIDERS is not JSON"),
    ('{"name": "x"}', "must be a JSON list"),
    ('[{"name": "x", "base_url": "https://a"}]', "PAGING_SMS_PROVIDERS[0] needs non-empty strings"),
    ('[{"name": "x", "base_url": "https://a", "account_sid": "s", "auth_token": "t", "from": "5550001"}]',
     "must be an E.164 number"),
])
def test_a_wrong_provider_list_stops_start_up_saying_what_to_fix(monkeypatch, value, says):
    monkeypatch.setenv("PAGING_SMS_PROVIDERS", value)
    with pytest.raises(ImproperlyConfigured, match=says.replace("[", r"\[").replace("]", r"\]")):
        vigil_settings._sms_providers()
