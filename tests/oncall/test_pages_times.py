"""On-call pages show times in the reader's zone, labelled, with the team's time beside them where it differs;
"my shifts" shows each shift's real start and end, not the edge of its four-week window."""

from datetime import datetime
from types import SimpleNamespace

import pytest

from oncall.queries import user_shifts
from oncall.services import create_override
from tests.oncall.helpers import utc

NOW = utc(2030, 1, 2, 12, 30)  # a Wednesday in winter: Berlin is UTC+1


@pytest.fixture
def frozen(monkeypatch):
    """The pages' clock at NOW (the views read it from ``djtz.now()``)."""
    monkeypatch.setattr("oncall.views.djtz", SimpleNamespace(now=lambda: NOW))


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob], timezone="UTC",
                         handoff_at="2029-12-31T09:00")


@pytest.fixture
def override(client, rotation, alice):
    # Typed on the team page, in the team's zone (Europe/Berlin): 13:00 to 18:00 is 12:00 to 17:00 UTC.
    client.force_login(alice)
    client.post("/oncall/teams/payments/overrides/new/", {
        "rotation": rotation.pk, "user": "alice", "start": "2030-01-02T13:00", "end": "2030-01-02T18:00"})
    return rotation.overrides.get()


def test_team_page_shows_an_override_until_the_time_it_was_typed_in(client, frozen, override, alice):
    client.force_login(alice)  # Europe/Berlin, as the team

    page = client.get("/oncall/teams/payments/").content.decode()

    assert "Times in your zone, Europe/Berlin" in page
    assert 'until <time datetime="2030-01-02T17:00:00+00:00">Wed 2 Jan 18:00 <span class="tz">Europe/Berlin</span>' in page
    assert "team time" not in page


def test_team_page_gives_the_team_time_beside_a_reader_in_another_zone(client, frozen, override, bob):
    client.force_login(bob)  # UTC

    page = client.get("/oncall/teams/payments/").content.decode()

    assert "Times in your zone, UTC, with the team's time (Europe/Berlin) beside them" in page
    assert ('Wed 2 Jan 17:00 <span class="tz">UTC</span></time> '
            '<span class="team-time">(18:00 Europe/Berlin team time)</span>') in page


def test_org_page_labels_its_times(client, frozen, override, alice):
    client.force_login(alice)

    page = client.get("/oncall/").content.decode()

    assert 'As of <time datetime="2030-01-02T12:30:00+00:00">Wed 2 Jan 2030, 13:30 <span class="tz">Europe/Berlin' in page
    assert 'Wed 2 Jan 18:00 <span class="tz">Europe/Berlin</span>' in page


def test_my_shifts_are_in_my_zone_with_the_team_time_beside(client, frozen, make_rotation, alice, nora):
    make_rotation(name="Weekly", participants=[nora], handoff_at="2030-01-07T09:00")
    client.force_login(nora)  # America/New_York, in a Berlin team

    page = client.get("/oncall/me/").content.decode()

    assert ('Mon 7 Jan 03:00 <span class="tz">America/New_York</span></time> '
            '<span class="team-time">(09:00 Europe/Berlin team time)</span>') in page


def test_my_shifts_show_the_real_end_of_a_shift_the_window_cuts(client, frozen, make_rotation, alice):
    # Fortnightly shifts from Monday 24 December: the page's window (1 to 30 January) cuts the first and the last.
    make_rotation(name="Fortnightly", participants=[alice], shift_length="P14D", handoff_at="2029-12-24T09:00")
    client.force_login(alice)

    response = client.get("/oncall/me/")

    assert [(s.start, s.end) for s in response.context["shifts"]] == [
        (utc(2029, 12, 24, 8), utc(2030, 1, 7, 8)),
        (utc(2030, 1, 7, 8), utc(2030, 1, 21, 8)),
        (utc(2030, 1, 21, 8), utc(2030, 2, 4, 8)),
    ]
    page = response.content.decode()
    assert "Mon 24 Dec 09:00" in page and "Mon 4 Feb 09:00" in page


def test_a_whole_shift_ends_where_an_override_beyond_the_window_cuts_it(make_rotation, alice, bob):
    rotation = make_rotation(name="Fortnightly", participants=[alice], shift_length="P14D",
                             handoff_at="2029-12-24T09:00")
    create_override(rotation=rotation, user=bob, start=utc(2030, 2, 1, 12), end=utc(2030, 2, 2, 12))

    shifts = user_shifts(alice, utc(2030, 1, 1), utc(2030, 1, 30), whole=True)

    assert (shifts[-1].start, shifts[-1].end) == (utc(2030, 1, 21, 8), utc(2030, 2, 1, 12))
    # Without ``whole`` (the calendar feed), shifts stay clipped to the window.
    assert user_shifts(alice, utc(2030, 1, 1), utc(2030, 1, 30))[-1].end == utc(2030, 1, 30)


def test_a_first_hand_off_is_read_as_typed_in_the_rotation_zone_whatever_the_reader_zone(client, alice):
    # 02:30 on 31 March 2030 does not exist in Berlin (alice's zone), but does in New York.
    client.force_login(alice)

    response = client.post("/oncall/teams/payments/rotations/new/", {
        "name": "Night watch", "layer": "primary", "participants": "alice", "shift_length": "P1D",
        "handoff_at": "2030-03-31T02:30", "timezone": "America/New_York"})

    assert response.status_code == 302, response.context["form"].errors
    assert alice.memberships.get().team.rotations.get().first_handoff == datetime(2030, 3, 31, 2, 30)
