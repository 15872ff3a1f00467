"""On-call load per person per month (business hours, nights, weekends) and coverage gaps."""

import csv
import io
from datetime import date
from types import SimpleNamespace

import pytest

from oncall.queries import coverage_gap_seconds, coverage_gaps, team_load
from tests.factories import MembershipFactory, UserFactory
from tests.oncall.helpers import utc


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Primary", participants=[alice, bob], handoff_at="2026-03-02T09:00")


def test_march_load_is_split_in_the_team_zone(rotation):
    rows = {row.user.username: row for row in team_load(rotation.team, date(2026, 3, 1))}

    # alice: two full weeks plus Monday 30 March 09:00 to the end of the month.
    alice = rows["alice"]
    assert (alice.business, alice.nights, alice.weekends) == (108, 171, 96)
    # bob: two weeks, one of them across the spring change (its Sunday has 23 hours).
    bob = rows["bob"]
    assert (bob.business, bob.nights, bob.weekends) == (90, 150, 95)
    assert bob.total == 335 and alice.over_limit and bob.over_limit


def test_load_csv_download_flags_people_over_the_limit(client, rotation, alice, settings, monkeypatch):
    settings.ONCALL_MONTHLY_LOAD_LIMIT_HOURS = 340
    monkeypatch.setattr("oncall.views.djtz", SimpleNamespace(now=lambda: utc(2026, 3, 10)))
    client.force_login(alice)

    response = client.get("/oncall/teams/payments/load.csv", {"from": "2026-03", "months": "1"})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # The columns of before, in their places; then the layer and the hours worked (before now) and scheduled.
    assert rows == [
        ["month", "username", "name", "business_hours", "night_hours", "weekend_hours", "total_hours", "over_limit",
         "layer", "worked_hours", "scheduled_hours"],
        ["2026-03", "alice", "Alice Archer", "108.00", "171.00", "96.00", "375.00", "yes", "primary", "168.00", "207.00"],
        ["2026-03", "bob", "Bob Baker", "90.00", "150.00", "95.00", "335.00", "no", "primary", "16.00", "319.00"],
    ]


def test_load_page_shows_the_warning(client, rotation, alice):
    client.force_login(alice)

    page = client.get("/oncall/teams/payments/load/", {"from": "2026-03", "months": "1"}).content.decode()

    assert "over the limit of 168 h" in page


@pytest.fixture
def four_people(alice, bob, nora, payments):
    dana = UserFactory(username="dana", full_name="Dana Diaz")
    MembershipFactory(team=payments, user=dana)
    return [alice, bob, nora, dana]


def test_layers_are_counted_apart_so_a_normal_month_is_not_flagged(make_rotation, four_people):
    # Four people, weekly: each is primary one week and secondary another in February (28 days).
    alice, bob, nora, dana = four_people
    make_rotation(name="Primary", participants=[alice, bob, nora, dana], handoff_at="2026-02-02T09:00")
    make_rotation(name="Secondary", layer="secondary", participants=[nora, dana, alice, bob],
                  handoff_at="2026-02-02T09:00")

    rows = team_load(alice.memberships.get().team, date(2026, 2, 1), now=utc(2026, 2, 1))

    by_key = {(r.user.username, r.layer): r.total for r in rows}
    assert by_key[("alice", "primary")] == by_key[("alice", "secondary")] == 168
    assert by_key[("dana", "primary")] == 135  # from Monday 23 February 09:00 to the month's end
    # 336 hours in two layers used to be "over the limit of 168 h" for everybody, every month.
    assert not any(r.over_limit for r in rows)


def test_one_layer_over_the_limit_is_flagged_for_that_layer_only(make_rotation, rotation, alice, bob):
    make_rotation(name="Secondary", layer="secondary", participants=[bob], shift_length="P1D",
                  handoff_at="2026-03-02T09:00", ends_at=utc(2026, 3, 5, 8))

    rows = team_load(rotation.team, date(2026, 3, 1), now=utc(2026, 3, 1))

    flagged = {(r.user.username, r.layer) for r in rows if r.over_limit}
    assert flagged == {("alice", "primary"), ("bob", "primary")}
    assert [(r.user.username, r.layer, r.total) for r in rows if r.layer == "secondary"] == [("bob", "secondary", 72)]


def test_hours_before_now_are_worked_and_the_rest_scheduled(rotation):
    rows = {row.user.username: row for row in team_load(rotation.team, date(2026, 3, 1), now=utc(2026, 3, 17))}

    # alice worked 2–9 March and since 16 March 08:00 UTC; bob worked 9–16 March and has 23–30 March to come.
    assert (rows["alice"].worked, rows["alice"].scheduled) == (184, 191)
    assert (rows["bob"].worked, rows["bob"].scheduled) == (168, 167)
    assert rows["alice"].worked_over_limit and not rows["bob"].worked_over_limit


def test_load_page_says_whether_the_hours_were_worked_or_are_scheduled(client, rotation, alice, monkeypatch):
    monkeypatch.setattr("oncall.views.djtz", SimpleNamespace(now=lambda: utc(2026, 3, 17)))
    client.force_login(alice)

    page = client.get("/oncall/teams/payments/load/", {"from": "2026-03", "months": "1"}).content.decode()

    assert "Worked over the limit of 168 h" in page  # alice: 184 h worked already
    assert "Scheduled over the limit of 168 h" in page  # bob: 168 h worked, 167 h to come


def test_coverage_gaps_per_team_and_layer(make_rotation, rotation, alice, bob):
    make_rotation(name="Secondary", layer="secondary", participants=[bob], handoff_at="2026-03-02T09:00",
                  ends_at=utc(2026, 3, 20))
    now = utc(2026, 3, 10)

    gaps = coverage_gaps(now)

    assert gaps[("payments", "primary")] == []
    assert gaps[("payments", "secondary")] == [(utc(2026, 3, 20), utc(2026, 4, 7))]
    assert coverage_gap_seconds(now) == {("payments", "primary"): 0, ("payments", "secondary"): 18 * 86400}
