"""Stakeholder updates: promised next updates and their reminders (injected clock), internal updates to
subscribers and the team's Slack channel, and the API's extensions."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from comms.updates import send_update_reminders
from incidents.models import RoleAssignment, StatusUpdate
from incidents.services import (
    assign_role,
    post_status_update,
    resolve_incident,
    transition_incident,
)
from oncall.services import update_team
from paging.models import Notification
from paging.services.subscriptions import subscribe
from tests.factories import UserFactory, make_incident, severity
from tests.paging import conftest as paging_fixtures

# The fake Slack Web API (and the fake HTTP server under it), from paging's tests.
http_server, slack_api = paging_fixtures.http_server, paging_fixtures.slack_api

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


@pytest.fixture
def incident(payments, alice, checkout):
    return make_incident(team=payments, by=alice, sev="SEV1", services=[checkout], title="Checkout errors", now=T0)


def _reminders():
    return list(Notification.objects.filter(kind=Notification.Kind.UPDATE_DUE).select_related("user"))


# --- Promises ------------------------------------------------------------------------------------------

def test_an_update_can_promise_the_next_one(incident, alice):
    update = post_status_update(incident=incident, state="investigating", body="Looking into it.", by=alice,
                                next_update_at=T0 + timedelta(minutes=30), now=T0)
    assert update.next_update_at == T0 + timedelta(minutes=30)


@pytest.mark.parametrize(("offset", "says"), [
    (timedelta(minutes=-1), "in the future"),
    (timedelta(days=8), "within 7 days"),
])
def test_a_promise_in_the_past_or_too_far_is_refused(incident, alice, offset, says):
    with pytest.raises(ValidationError) as err:
        post_status_update(incident=incident, state="investigating", body="x", by=alice,
                           next_update_at=T0 + offset, now=T0)
    assert says in str(err.value.message_dict["next_update_at"])
    assert not StatusUpdate.objects.exists()


def test_a_resolved_update_promises_nothing(incident, alice):
    with pytest.raises(ValidationError) as err:
        post_status_update(incident=incident, state="resolved", body="Fixed.", by=alice,
                           next_update_at=T0 + timedelta(minutes=30), now=T0)
    assert "owes no next update" in str(err.value)


# --- Reminders -----------------------------------------------------------------------------------------

def test_the_comms_lead_is_reminded_once_when_the_promise_passes(incident, alice, bob):
    assign_role(incident=incident, role=RoleAssignment.Role.COMMANDER, user=alice, by=alice, now=T0)
    assign_role(incident=incident, role=RoleAssignment.Role.COMMS_LEAD, user=bob, by=alice, now=T0)
    post_status_update(incident=incident, state="investigating", body="Looking into it.", by=bob,
                       next_update_at=T0 + timedelta(minutes=30), now=T0)

    assert send_update_reminders(now=T0 + timedelta(minutes=29)) == 0
    assert _reminders() == []

    assert send_update_reminders(now=T0 + timedelta(minutes=31)) == 1
    (reminder,) = _reminders()
    assert reminder.user == bob and reminder.incident == incident  # the comms lead, not the commander
    assert reminder.subject.startswith("Update overdue:") and incident.number in reminder.subject
    assert "1 minute ago" in reminder.body and f"/incidents/{incident.number}/" in reminder.body
    # Labelled in the team's zone (payments: Europe/Berlin).
    local = (T0 + timedelta(minutes=30)).astimezone(timezone.get_default_timezone())
    assert ("CET" in reminder.body or "CEST" in reminder.body), local

    assert send_update_reminders(now=T0 + timedelta(hours=2)) == 0  # once
    assert len(_reminders()) == 1


def test_without_a_comms_lead_the_commander_is_reminded_and_without_either_the_team_leads(incident, alice, bob):
    post_status_update(incident=incident, state="investigating", body="Looking.", by=bob,
                       next_update_at=T0 + timedelta(minutes=15), now=T0)
    send_update_reminders(now=T0 + timedelta(minutes=16))
    assert [n.user for n in _reminders()] == [alice]  # alice leads payments; nobody holds a role yet

    other = make_incident(team=incident.team, by=alice, sev="SEV2", title="Second", now=T0)
    assign_role(incident=other, role=RoleAssignment.Role.COMMANDER, user=bob, by=alice, now=T0)
    post_status_update(incident=other, state="investigating", body="Looking.", by=bob,
                       next_update_at=T0 + timedelta(minutes=15), now=T0)
    send_update_reminders(now=T0 + timedelta(minutes=16))
    assert sorted(n.user.username for n in _reminders()) == ["alice", "bob"]


def test_a_newer_update_keeps_the_promise_and_a_resolved_incident_owes_none(incident, alice):
    post_status_update(incident=incident, state="investigating", body="Looking.", by=alice,
                       next_update_at=T0 + timedelta(minutes=15), now=T0)
    post_status_update(incident=incident, state="identified", body="Found it.", by=alice,
                       now=T0 + timedelta(minutes=10))
    assert send_update_reminders(now=T0 + timedelta(minutes=20)) == 0

    second = make_incident(team=incident.team, by=alice, sev="SEV2", title="Second", now=T0)
    post_status_update(incident=second, state="investigating", body="Looking.", by=alice,
                       next_update_at=T0 + timedelta(minutes=15), now=T0)
    resolve_incident(incident=second, by=alice, summary="Rolled back.", now=T0 + timedelta(minutes=5))
    assert send_update_reminders(now=T0 + timedelta(minutes=20)) == 0
    assert _reminders() == []


def test_the_reminder_reaches_the_person_by_e_mail_and_the_team_channel(incident, alice, bob, slack_api,
                                                                       deliver_queued):
    update_team(team=incident.team, by=None, slack_channel="C024BE91L")
    assign_role(incident=incident, role=RoleAssignment.Role.COMMS_LEAD, user=bob, by=alice, now=T0)
    post_status_update(incident=incident, state="investigating", body="Looking.", by=bob,
                       next_update_at=T0 + timedelta(minutes=30), now=T0)
    slack_api.requests.clear()
    mail.outbox.clear()
    send_update_reminders(now=T0 + timedelta(minutes=45))
    deliver_queued()

    (email,) = [m for m in mail.outbox if m.subject.startswith("Update overdue")]
    assert email.to == [bob.email] and "15 minutes ago" in email.body
    posts = [r.json() for r in slack_api.requests]
    assert [p["channel"] for p in posts] == ["C024BE91L"]
    assert "Update overdue" in posts[0]["text"] and "Bob Baker" in posts[0]["text"]


# --- Internal updates to subscribers and the team's Slack channel ---------------------------------------

def test_an_update_reaches_the_subscribers_and_the_team_channel(incident, alice, bob, slack_api, deliver_queued):
    update_team(team=incident.team, by=None, slack_channel="C024BE91L")
    director = UserFactory(username="dana", email="dana@example.com")
    from oncall.models import Membership
    Membership.objects.create(team=incident.team, user=director, role=Membership.Role.MEMBER)
    subscribe(user=director, team=incident.team, min_severity=severity("SEV2"))
    slack_api.requests.clear()
    mail.outbox.clear()

    incident.team.refresh_from_db()  # as any request would read it
    post_status_update(incident=incident, state="identified", body="A bad deploy; rolling back.", by=alice,
                       next_update_at=T0 + timedelta(minutes=30), now=T0)
    deliver_queued()

    (email,) = [m for m in mail.outbox if m.to == ["dana@example.com"]]
    assert "A bad deploy; rolling back." in email.body and "internal" in email.body
    assert "Next update by" in email.body
    (post,) = [r.json() for r in slack_api.requests]
    assert post["channel"] == "C024BE91L"
    assert "A bad deploy; rolling back." in post["text"] and incident.number in post["text"]
    # The channel post is on the incident's timeline, named by its channel.
    sent = Notification.objects.get(address="C024BE91L")
    assert sent.user is None and sent.status == "sent" and sent.incident == incident


def test_a_team_without_a_channel_posts_nothing_to_slack(incident, alice, slack_api, deliver_queued):
    slack_api.requests.clear()
    post_status_update(incident=incident, state="investigating", body="Looking.", by=alice, now=T0)
    deliver_queued()
    assert slack_api.requests == []


def test_a_bad_slack_channel_is_refused_naming_what_to_use(payments):
    with pytest.raises(ValidationError) as err:
        update_team(team=payments, by=None, slack_channel="#payments")
    assert "channel id (C" in str(err.value)


# --- API -----------------------------------------------------------------------------------------------

def test_api_posts_an_update_with_a_promise_and_from_a_template(api, incident, alice):
    client = api.as_user(alice)
    due = (timezone.now() + timedelta(minutes=30)).replace(microsecond=0)
    answer = client.post(f"/api/v1/incidents/{incident.number}/updates/",
                         {"state": "investigating", "template": "status_investigating", "public": True,
                          "next_update_at": due.isoformat()}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["next_update_at"] is not None and body["public"] is True
    assert body["body"].strip() and "{{" not in body["body"]  # drafted from the template, rendered
    assert "template" not in body

    bad = client.post(f"/api/v1/incidents/{incident.number}/updates/",
                      {"state": "investigating", "template": "haiku"}, format="json")
    assert bad.status_code == 400 and '"haiku" is not a valid choice' in bad.json()["template"][0]

    past = client.post(f"/api/v1/incidents/{incident.number}/updates/",
                       {"state": "investigating", "body": "x",
                        "next_update_at": (timezone.now() - timedelta(hours=1)).isoformat()}, format="json")
    assert past.status_code == 400 and "in the future" in str(past.json())
    assert StatusUpdate.objects.filter(incident=incident).count() == 1


def test_api_resolve_takes_a_resolution_summary(api, incident, alice):
    client = api.as_user(alice)
    answer = client.post(f"/api/v1/incidents/{incident.number}/resolve/",
                         {"note": "rolled back", "resolution_summary": "Rolled back deploy 4512."}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["resolution_summary"] == "Rolled back deploy 4512."
    assert answer.json()["status"] == "resolved"

    other = make_incident(team=incident.team, by=alice, title="Other")
    wrong = client.post(f"/api/v1/incidents/{other.number}/acknowledge/",
                        {"resolution_summary": "x"}, format="json")
    assert wrong.status_code == 400 and "Only resolving" in str(wrong.json())
    other.refresh_from_db()
    assert other.status == "triggered"


def test_resolving_with_an_update_is_all_or_nothing(incident, alice):
    transition_incident(incident=incident, transition="acknowledge", by=alice, now=T0)
    resolved = resolve_incident(incident=incident, by=alice, summary="Rolled back.", root_cause="Deploy 4512",
                                update_body="All payments work again.", update_public=True,
                                now=T0 + timedelta(minutes=5))
    assert (resolved.status, resolved.resolution_summary, resolved.root_cause) == \
        ("resolved", "Rolled back.", "Deploy 4512")
    (update,) = StatusUpdate.objects.filter(incident=incident)
    assert (update.state, update.public, update.body) == ("resolved", True, "All payments work again.")
