"""Calendar feeds parse back with icalendar; the secret link can be replaced; unknown links are 404."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from oncall.schedule import handoff_instant
from oncall.services import calendar_token_for, create_override, rotate_calendar_token


@pytest.fixture
def rotation(make_rotation, alice, bob):
    start = timezone.now() - timedelta(days=7)
    return make_rotation(name="Payments primary", participants=[alice, bob], timezone="UTC",
                         handoff_at=start.strftime("%Y-%m-%dT%H:00"))


def events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return [c for c in calendar.walk("VEVENT")]


def test_person_feed_lists_only_their_shifts_and_parses_back(client, rotation, alice, bob):
    token = calendar_token_for(user=bob)

    found = events(client.get(f"/oncall/calendar/{token.token}.ics"))

    # The rotation began 7 days ago; the feed runs 180 days ahead: hand-offs 1..26 fall inside, and bob
    # has the odd ones.
    assert len(found) == 13
    assert found[0].decoded("DTSTART") == handoff_instant(rotation, 1)
    assert all("Bob Baker" in str(e["SUMMARY"]) for e in found)
    starts = [e.decoded("DTSTART") for e in found]
    assert all((b - a) == timedelta(days=14) for a, b in zip(starts, starts[1:], strict=False))
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(days=7) for e in found[1:-1])
    assert len({str(e["UID"]) for e in found}) == len(found)


def test_team_feed_includes_overrides(client, rotation, alice, bob):
    now = timezone.now().replace(microsecond=0)
    create_override(rotation=rotation, user=alice, start=now + timedelta(days=40), end=now + timedelta(days=41))
    token = calendar_token_for(team=rotation.team)

    found = events(client.get(f"/oncall/calendar/{token.token}.ics"))

    overrides = [e for e in found if "(override)" in str(e["SUMMARY"])]
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in overrides] == [
        (now + timedelta(days=40), now + timedelta(days=41))]


def test_rotating_the_token_kills_the_old_link(client, rotation, bob):
    old = calendar_token_for(user=bob).token

    new = rotate_calendar_token(user=bob).token

    assert new != old
    assert client.get(f"/oncall/calendar/{old}.ics").status_code == 404
    assert client.get(f"/oncall/calendar/{new}.ics").status_code == 200


def test_unknown_token_is_404(client, db):
    assert client.get("/oncall/calendar/not-a-token.ics").status_code == 404


def test_replacing_my_calendar_link_shows_the_new_one_on_my_shifts_page(client, rotation, bob):
    client.force_login(bob)

    client.post("/oncall/calendar/rotate/")

    token = calendar_token_for(user=bob)
    assert token.token in client.get("/oncall/me/").content.decode()
