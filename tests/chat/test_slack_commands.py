"""The /incident slash command, as Slack sends it: signed, form-encoded, answered with a JSON reply."""

import json
import time
from datetime import datetime
from urllib.parse import urlencode

import pytest
from django.core import mail

from chat.slack import signature
from incidents.models import Incident, StatusUpdate
from oncall.services import create_rotation
from paging.models import Notification
from tests.factories import ensure_severities, make_incident

pytestmark = pytest.mark.django_db

URL = "/api/v1/chat/slack/commands/"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(autouse=True)
def signing_secret(settings):
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SITE_URL = "https://vigil.example.com"
    ensure_severities()


@pytest.fixture
def linked(alice, bob, charlie, sam):
    for user, slack_id in ((alice, "UALICE01"), (bob, "UBOB0001"), (charlie, "UCHARLIE1"), (sam, "USAM0001")):
        user.slack_user_id = slack_id
        user.save(update_fields=["slack_user_id"])
    return alice


def send(client, body: bytes | str, *, timestamp=None, sign=True, secret=SECRET, sig=None):
    body = body.encode() if isinstance(body, str) else body
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {"HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp}
    if sign:
        headers["HTTP_X_SLACK_SIGNATURE"] = sig or signature(secret=secret, timestamp=timestamp, body=body)
    return client.post(URL, body, content_type="application/x-www-form-urlencoded", **headers)


def form(text: str, user_id: str = "UALICE01", command: str = "/incident") -> str:
    return urlencode({"command": command, "text": text, "user_id": user_id, "user_name": "someone",
                      "team_id": "T0001", "channel_id": "C0001", "trigger_id": "1.2.3",
                      "response_url": "https://hooks.slack.com/commands/T0001/1/abc"})


def say(client, text: str, user_id: str = "UALICE01") -> dict:
    response = send(client, form(text, user_id))
    assert response.status_code == 200, response.content
    return response.json()


# --- the signature -----------------------------------------------------------------------------

def test_a_good_signature_is_answered(client, linked):
    reply = say(client, "help")
    assert reply["response_type"] == "ephemeral"
    assert "/incident declare" in reply["text"]


def test_a_bad_signature_is_refused(client, linked):
    response = send(client, form("help"), secret="not-the-secret")
    assert response.status_code == 401
    assert "SLACK_SIGNING_SECRET" in response.json()["detail"]


def test_a_missing_signature_is_refused(client, linked):
    response = send(client, form("help"), sign=False)
    assert response.status_code == 401
    assert "X-Slack-Signature" in response.json()["detail"]


@pytest.mark.parametrize("offset", [-301, +301, -86400])
def test_a_stale_or_future_timestamp_is_refused(client, linked, offset):
    response = send(client, form("help"), timestamp=str(int(time.time()) + offset))
    assert response.status_code == 401
    assert "5 minutes" in response.json()["detail"]


@pytest.mark.parametrize("timestamp", ["", "abc", "1e9", "-5", "99999999999999999999"])
def test_a_timestamp_that_is_not_a_unix_time_is_refused(client, linked, timestamp):
    response = send(client, form("help"), timestamp=timestamp)
    assert response.status_code == 401


def test_a_signature_replayed_with_another_body_is_refused(client, linked, payments):
    timestamp = str(int(time.time()))
    captured = signature(secret=SECRET, timestamp=timestamp, body=form("help").encode())
    response = send(client, form('declare "Forged" sev=1 team=payments'), timestamp=timestamp, sig=captured)
    assert response.status_code == 401
    assert not Incident.objects.exists()


def test_without_a_signing_secret_the_endpoint_says_how_to_set_it_up(client, linked, settings):
    settings.SLACK_SIGNING_SECRET = ""
    response = send(client, form("help"))
    assert response.status_code == 503
    assert "SLACK_SIGNING_SECRET" in response.json()["detail"]


def test_only_post_is_answered(client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00garbage", b"text=%ZZ&user_id=UALICE01", b"&&&==&=",
                                  b"user_id=UALICE01&text=" + b"%22" * 5000,
                                  b"user_id=UALICE01&text=declare%20%ED%A0%80", b"user_id=UALICE01&text=%ff%fe"],
                         ids=["empty", "binary", "bad-escape", "only-separators", "5000-quotes", "surrogate", "latin1"])
def test_garbage_bodies_never_fail(client, linked, body):
    response = send(client, body)
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"


@pytest.mark.parametrize("body", [b"user_id=UALICE01&text=%00", b"text=%ZZ%00&user_id=UALICE01"], ids=["nul", "nul2"])
def test_a_nul_character_is_refused_with_a_reason(client, linked, body):
    response = send(client, body)  # Vigil's RefuseUnstorableText refuses it before the view, as everywhere
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_too_many_fields_is_a_bad_request_not_an_error(client, linked):
    response = send(client, b"a=" + b"b&a=" * 3000)  # refused by Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert response.status_code == 400


def test_an_oversized_body_is_refused(client, linked):
    response = send(client, form("help" + " x" * 40000))
    assert response.status_code == 413


# --- people ------------------------------------------------------------------------------------

def test_an_unlinked_slack_user_is_told_where_to_link(client, linked):
    reply = say(client, "help", user_id="UNOBODY01")
    assert reply["response_type"] == "ephemeral"
    assert "https://vigil.example.com/paging/me/" in reply["text"]
    assert "member ID" in reply["text"]


def test_a_deactivated_person_is_not_linked(client, linked, bob):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert "not linked" in say(client, "help", user_id="UBOB0001")["text"]


# --- help --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "help", "HELP", "frobnicate now", '"quoted"'])
def test_help_and_unknown_commands_get_the_help_text(client, linked, text):
    reply = say(client, text)
    assert reply["response_type"] == "ephemeral"
    assert "/incident oncall" in reply["text"]


def test_the_help_names_the_command_slack_was_given(client, linked):
    response = send(client, form("help", command="/vigil"))
    assert "/vigil declare" in response.json()["text"]


# --- declare -----------------------------------------------------------------------------------

def test_declare(client, linked, payments):
    reply = say(client, 'declare "Checkout is down" sev=1 team=payments')
    incident = Incident.objects.get()
    assert (incident.title, incident.severity.name, incident.team, incident.source, incident.declared_by) == (
        "Checkout is down", "SEV1", payments, "chat", linked)
    assert reply["response_type"] == "in_channel"
    assert incident.number in reply["text"] and "Checkout is down" in reply["text"] and "SEV1" in reply["text"]
    assert f"https://vigil.example.com/incidents/{incident.number}/" in reply["text"]


def test_declare_takes_typographic_quotes_and_sev_names(client, linked, payments):
    say(client, "declare \u201cCheckout is down\u201d sev=SEV3 team=payments")
    assert Incident.objects.get().severity.name == "SEV3"


def test_declare_defaults_to_the_only_team(client, linked, payments):
    say(client, 'declare "Checkout is down" sev=2')
    assert Incident.objects.get().team == payments


@pytest.mark.parametrize(("text", "says"), [
    ('declare "Checkout is down" sev=9 team=payments', "Unknown severity"),
    ('declare "Checkout is down" sev=x team=payments', "Unknown severity"),
    ('declare "Checkout is down" team=payments', "Give a severity"),
    ("declare Checkout is down sev=1 team=payments", "Put the title in double quotes"),
    ('declare "Checkout is down sev=1 team=payments', "A quote is not closed"),
    ('declare sev=1 team=payments', "Give the title"),
    ('declare "  " sev=1 team=payments', "title is empty"),
    ('declare "Checkout is down" sev=1 team=nobody', "No team nobody"),
    ('declare "Checkout is down" sev=1 team=search', "No team search"),
    ('declare "Checkout is down" sev=1 team=payments colour=red', "Unknown option colour"),
    ('declare "' + "x" * 300 + '" sev=1 team=payments', "at most"),
])
def test_declare_refusals(client, linked, payments, search_team, text, says):
    reply = say(client, text)
    assert reply["response_type"] == "ephemeral"
    assert says in reply["text"], reply["text"]
    assert not Incident.objects.exists()


# --- ack, resolve ------------------------------------------------------------------------------

@pytest.fixture
def incident(payments, alice):
    return make_incident(team=payments, by=alice, title="Checkout is failing")


def test_ack_and_resolve(client, linked, incident):
    reply = say(client, f"ack {incident.number}")
    assert reply["response_type"] == "in_channel" and "acknowledged" in reply["text"]
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.history.first().history_user == linked
    say(client, f"resolve {incident.sequence}")
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_an_illegal_transition_lists_the_allowed_ones(client, linked, incident):
    say(client, f"resolve {incident.number}")
    reply = say(client, f"ack {incident.number.lower()}")
    assert reply["response_type"] == "ephemeral"
    assert "resolved" in reply["text"] and "reopen" in reply["text"]


def test_an_incident_of_another_team_is_not_found(client, linked, incident):
    reply = say(client, f"ack {incident.number}", user_id="UCHARLIE1")
    assert "No incident" in reply["text"]
    assert incident.title not in reply["text"]
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_staff_may_act_on_any_incident(client, linked, incident):
    say(client, f"ack {incident.number}", user_id="USAM0001")
    incident.refresh_from_db()
    assert incident.status == "acknowledged"


@pytest.mark.parametrize("text", ["ack", "ack INC-2026-9999", "ack nonsense", "ack 1 2", "resolve 99999999999999"])
def test_ack_refusals(client, linked, incident, text):
    reply = say(client, text)
    assert reply["response_type"] == "ephemeral"
    assert "Usage" in reply["text"]


# --- status ------------------------------------------------------------------------------------

def test_status_posts_an_internal_update(client, linked, incident):
    reply = say(client, f'status {incident.number} identified "Bad deploy; rolling back"')
    update = StatusUpdate.objects.get()
    assert (update.incident, update.state, update.body, update.public, update.author) == (
        incident, "identified", "Bad deploy; rolling back", False, linked)
    assert reply["response_type"] == "in_channel"


@pytest.mark.parametrize(("text", "says"), [
    ('status {n} fixed "Done"', "Unknown state fixed"),
    ("status {n} identified Bad deploy", "Put the update's text in double quotes"),
    ("status {n} identified", "Give the update's text"),
    ("status {n}", "Name the incident, the state and the text"),
    ('status INC-2020-0001 identified "x"', "No incident"),
])
def test_status_refusals(client, linked, incident, text, says):
    reply = say(client, text.format(n=incident.number))
    assert says in reply["text"], reply["text"]
    assert not StatusUpdate.objects.exists()


def test_status_on_another_teams_incident_is_not_found(client, linked, incident):
    reply = say(client, f'status {incident.number} identified "x"', user_id="UCHARLIE1")
    assert "No incident" in reply["text"]
    assert not StatusUpdate.objects.exists()


# --- page --------------------------------------------------------------------------------------

def test_page_a_person(client, linked, incident, charlie, deliver_queued):
    reply = say(client, f'page {incident.number} @charlie "Search looks slow too, can you look?"')
    assert reply["response_type"] == "in_channel", reply["text"]
    assert "charlie" in reply["text"]
    assert Notification.objects.filter(user=charlie, incident=incident).exists()
    deliver_queued()
    assert any("Search looks slow too" in m.body for m in mail.outbox if "charlie" in " ".join(m.to))


def test_page_a_person_by_slack_mention(client, linked, incident, charlie):
    say(client, f'page {incident.number} <@UCHARLIE1|charlie> "Help"')
    assert Notification.objects.filter(user=charlie, incident=incident).exists()


def test_page_a_teams_on_call(client, linked, incident, search_team, charlie):
    create_rotation(team=search_team, name="Primary", participants=[charlie], shift_length="P7D",
                    handoff_at=datetime(2026, 3, 2, 9), timezone="UTC", by=None)
    reply = say(client, f'page {incident.number} search "Is search down?"')
    assert "charlie" in reply["text"], reply["text"]
    assert Notification.objects.filter(user=charlie).exists()


@pytest.mark.parametrize(("text", "says"), [
    ('page {n} @nobody "Help"', "No active person has the username 'nobody'"),
    ('page {n} nowhere "Help"', "No team has the slug 'nowhere'"),
    ('page {n} search "Help"', "Nobody is reached"),
    ('page {n} <@UUNKNOWN1> "Help"', "has not linked"),
    ("page {n} @charlie Help me", "Put the message in double quotes"),
    ("page {n} @charlie", "Give the message"),
    ('page @charlie "Help"', "No incident"),
    ('page INC-2020-0042 @charlie "Help"', "No incident"),
])
def test_page_refusals(client, linked, incident, search_team, text, says):
    reply = say(client, text.format(n=incident.number))
    assert reply["response_type"] == "ephemeral"
    assert says in reply["text"], reply["text"]
    assert not Notification.objects.filter(kind="page").exists()


def test_paging_about_an_unseen_incident_is_not_found(client, linked, incident):
    reply = say(client, f'page {incident.number} @bob "Help"', user_id="UCHARLIE1")
    assert "No incident" in reply["text"]
    assert not Notification.objects.filter(user__username="bob").exists()


# --- oncall ------------------------------------------------------------------------------------

@pytest.fixture
def rotation(payments, alice):
    return create_rotation(team=payments, name="Primary", participants=[alice], shift_length="P7D",
                           handoff_at=datetime(2026, 3, 2, 9), timezone="Europe/Berlin", by=alice)


def test_oncall_for_my_teams(client, linked, rotation):
    reply = say(client, "oncall")
    assert reply["response_type"] == "ephemeral"
    assert "Payments" in reply["text"] and "Primary" in reply["text"] and "<@UALICE01>" in reply["text"]


def test_oncall_for_a_named_team(client, linked, rotation, search_team):
    assert "<@UALICE01>" in say(client, "oncall payments", user_id="USAM0001")["text"]
    assert "*Search*: no rotation" in say(client, "oncall search", user_id="USAM0001")["text"]


@pytest.mark.parametrize(("text", "user_id", "says"), [
    ("oncall payments", "UCHARLIE1", "No team payments"),
    ("oncall nobody", "UALICE01", "No team nobody"),
    ("oncall a b", "UALICE01", "at most one team"),
    ("oncall", "USAM0001", "You are in no team"),
])
def test_oncall_refusals(client, linked, rotation, text, user_id, says):
    reply = say(client, text, user_id=user_id)
    assert says in reply["text"], reply["text"]
    assert "alice" not in reply["text"].lower()


# --- buttons -----------------------------------------------------------------------------------

ACTIONS = "/api/v1/chat/slack/actions/"


def click(client, payload, *, secret=SECRET, sign=True):
    body = urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    headers = {"HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp}
    if sign:
        headers["HTTP_X_SLACK_SIGNATURE"] = signature(secret=secret, timestamp=timestamp, body=body)
    return client.post(ACTIONS, body, content_type="application/x-www-form-urlencoded", **headers)


def block_actions(button: dict, user_id: str = "UBOB0001") -> dict:
    return {"type": "block_actions", "user": {"id": user_id, "username": "bob"}, "team": {"id": "T0001"},
            "channel": {"id": "C0001"}, "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
            "actions": [{"block_id": "vigil_incident", "action_id": button["action_id"], "value": button["value"],
                         "type": "button"}]}


def test_the_declared_incident_carries_buttons_that_acknowledge_and_resolve(client, linked, payments):
    reply = say(client, 'declare "Checkout is down" sev=2 team=payments')
    ack, resolve = reply["blocks"][1]["elements"]
    response = click(client, block_actions(ack))
    assert response.status_code == 200
    assert response.json()["response_type"] == "in_channel" and "acknowledged" in response.json()["text"]
    incident = Incident.objects.get()
    assert incident.status == "acknowledged"
    assert incident.history.first().history_user.username == "bob"
    click(client, block_actions(resolve))
    incident.refresh_from_db()
    assert incident.status == "resolved"
    again = click(client, block_actions(ack)).json()
    assert again["response_type"] == "ephemeral" and "reopen" in again["text"]


def test_a_button_on_an_incident_the_person_cannot_see_is_not_found(client, linked, incident):
    reply = click(client, block_actions({"action_id": "vigil_acknowledge", "value": incident.number}, "UCHARLIE1"))
    assert "No incident" in reply.json()["text"]
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_a_button_click_from_an_unlinked_person(client, linked, incident):
    reply = click(client, block_actions({"action_id": "vigil_acknowledge", "value": incident.number}, "UNOBODY01"))
    assert "not linked" in reply.json()["text"]


def test_buttons_are_verified_too(client, linked, incident, settings):
    payload = block_actions({"action_id": "vigil_acknowledge", "value": incident.number})
    assert click(client, payload, secret="wrong").status_code == 401
    assert click(client, payload, sign=False).status_code == 401
    settings.SLACK_SIGNING_SECRET = ""
    assert click(client, payload).status_code == 503
    incident.refresh_from_db()
    assert incident.status == "triggered"


@pytest.mark.parametrize("payload", ["", "{", "[]", '{"type": "view_submission"}', "[" * 5000,
                                     '{"type": "block_actions", "user": 5, "actions": "x"}',
                                     '{"type": "block_actions", "user": {"id": "UBOB0001"}, "actions": [5]}',
                                     '{"type": "block_actions", "user": {"id": "UBOB0001"}, '
                                     '"actions": [{"action_id": "vigil_resolve", "value": ["INC"]}]}',
                                     '{"type": "block_actions", "user": {"id": "UBOB0001"}, '
                                     '"actions": [{"action_id": "vigil_close", "value": "1"}]}'])
def test_garbage_button_payloads_never_fail(client, linked, incident, payload):
    response = click(client, payload)
    assert response.status_code in (200, 400)
    assert response.json()
    incident.refresh_from_db()
    assert incident.status == "triggered"
