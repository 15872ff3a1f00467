"""A shift lasts at most a year; a rotation stored with a longer one before the cap still reads.

A 500,000-week shift used to be accepted (201), after which every page,
feed and report computing its shifts failed: the second hand-off lies past
year 9999 (OverflowError in shift arithmetic).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from oncall.models import Rotation
from oncall.services import (
    calendar_token_for,
    create_override,
    send_due_handoffs,
    send_shift_reminders,
    update_rotation,
)

ROTATION = {"team": "payments", "name": "Huge", "layer": "primary", "participants": ["alice", "bob"],
            "shift_length": "P500000W", "handoff_at": "2026-03-02T09:00", "timezone": "Europe/Berlin"}
TOO_LONG = "is too long: a shift lasts at most a year, P365D (PT8760H in hours)."


@pytest.mark.parametrize("length", ["P500000W", "P53W", "P366D", "PT8761H", "P2147483648W"])
def test_api_refuses_a_shift_longer_than_a_year(api, alice, bob, length):
    response = api.as_user(alice).post("/api/v1/rotations/", {**ROTATION, "shift_length": length}, format="json")

    assert response.status_code == 400
    assert response.json()["shift_length"] == [f"{length!r} {TOO_LONG}"]
    assert not Rotation.objects.exists()


@pytest.mark.parametrize("length", ["P365D", "P52W", "PT8760H"])
def test_a_shift_of_a_year_is_still_accepted(api, alice, bob, length):
    response = api.as_user(alice).post("/api/v1/rotations/", {**ROTATION, "shift_length": length}, format="json")

    assert response.status_code == 201, response.json()


def test_rotation_form_refuses_a_shift_longer_than_a_year(client, alice, bob):
    client.force_login(alice)

    response = client.post("/oncall/teams/payments/rotations/new/", {
        "name": "Huge", "layer": "primary", "participants": "alice", "shift_length": "P500000W",
        "handoff_at": "2026-03-02T09:00", "timezone": "Europe/Berlin"})

    assert response.status_code == 200
    assert response.context["form"].errors["shift_length"] == [f"'P500000W' {TOO_LONG}"]
    assert not Rotation.objects.exists()


def test_updating_to_a_longer_shift_is_refused(make_rotation, alice, bob):
    rotation = make_rotation(participants=[alice, bob])

    with pytest.raises(ValidationError, match="at most a year"):
        update_rotation(rotation=rotation, by=alice, shift_length="P500000W")
    rotation.refresh_from_db()
    assert rotation.shift_length == "P7D"


def _huge(make_rotation, alice, bob):
    """Alice's shift began four weeks ago; stored as before the cap, it lasts 500,000 weeks."""
    start = timezone.now().astimezone(timezone.get_current_timezone()) - timedelta(days=28)
    rotation = make_rotation(name="Huge", participants=[alice, bob], timezone="UTC",
                             handoff_at=start.strftime("%Y-%m-%dT%H:00"))
    Rotation.objects.filter(pk=rotation.pk).update(shift_count=500_000, shift_unit="weeks")
    rotation.refresh_from_db()
    return rotation


@pytest.fixture(params=["alone", "with an override"])
def huge(request, make_rotation, alice, bob):
    rotation = _huge(make_rotation, alice, bob)
    if request.param == "with an override":
        now = timezone.now()
        # Bob covers a day: a hand-off each side, and a shift that reaches far past any window around it.
        create_override(rotation=rotation, user=bob, start=now + timedelta(hours=2), end=now + timedelta(days=1))
    return rotation


def test_a_rotation_stored_with_a_huge_shift_still_shows_everywhere(client, api, huge, alice, bob, sam):
    client.force_login(alice)
    feed = calendar_token_for(user=alice).token
    for url in ("/oncall/", "/oncall/me/", "/oncall/teams/payments/", "/oncall/teams/payments/load/",
                "/oncall/teams/payments/schedule.yaml", f"/oncall/calendar/{feed}.ics"):
        assert client.get(url).status_code == 200, url
    assert "Alice Archer" in client.get("/oncall/").content.decode()

    on_call = api.as_user(alice).get("/api/v1/oncall/")
    assert on_call.status_code == 200
    assert [row["user"] for row in on_call.json()] == ["alice"]
    shifts = api.get(f"/api/v1/rotations/{huge.pk}/shifts/")
    assert shifts.status_code == 200
    assert [s["user"] for s in shifts.json()] == (["alice", "bob", "alice"] if huge.overrides.exists() else ["alice"])

    client.force_login(sam)
    assert client.get("/metrics").status_code == 200


def test_hand_off_emails_and_reminders_are_sent_in_a_huge_shift(make_rotation, alice, bob, deliver_queued):
    rotation = _huge(make_rotation, alice, bob)
    now = timezone.now()
    create_override(rotation=rotation, user=bob, start=now + timedelta(hours=2), end=now + timedelta(days=1))

    assert send_shift_reminders(now=now) == 2  # bob's day of cover, and alice's return after it
    assert send_due_handoffs(now=now + timedelta(hours=2, minutes=5)) == 1

    deliver_queued()
    reminders = [m for m in mail.outbox if m.subject.startswith("Your on-call shift")]
    handoffs = [m for m in mail.outbox if m.subject.startswith("On-call hand-off")]
    assert sorted(r.to[0] for r in reminders) == ["alice@example.com", "bob@example.com"]
    assert sorted(h.to[0] for h in handoffs) == ["alice@example.com", "bob@example.com"]
    assert all("Outgoing: Alice Archer\nIncoming: Bob Baker" in h.body for h in handoffs)
