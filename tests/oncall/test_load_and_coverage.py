"""On-call load per person per month (business hours, nights, weekends) and coverage gaps."""

import csv
import io
from datetime import date

import pytest

from oncall.queries import coverage_gap_seconds, coverage_gaps, team_load
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


def test_load_csv_download_flags_people_over_the_limit(client, rotation, alice, settings):
    settings.ONCALL_MONTHLY_LOAD_LIMIT_HOURS = 340
    client.force_login(alice)

    response = client.get("/oncall/teams/payments/load.csv", {"from": "2026-03", "months": "1"})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["month", "username", "name", "business_hours", "night_hours", "weekend_hours", "total_hours", "over_limit"],
        ["2026-03", "alice", "Alice Archer", "108.00", "171.00", "96.00", "375.00", "yes"],
        ["2026-03", "bob", "Bob Baker", "90.00", "150.00", "95.00", "335.00", "no"],
    ]


def test_load_page_shows_the_warning(client, rotation, alice):
    client.force_login(alice)

    page = client.get("/oncall/teams/payments/load/", {"from": "2026-03", "months": "1"}).content.decode()

    assert "Over the limit of 168 h" in page


def test_coverage_gaps_per_team_and_layer(make_rotation, rotation, alice, bob):
    make_rotation(name="Secondary", layer="secondary", participants=[bob], handoff_at="2026-03-02T09:00",
                  ends_at=utc(2026, 3, 20))
    now = utc(2026, 3, 10)

    gaps = coverage_gaps(now)

    assert gaps[("payments", "primary")] == []
    assert gaps[("payments", "secondary")] == [(utc(2026, 3, 20), utc(2026, 4, 7))]
    assert coverage_gap_seconds(now) == {("payments", "primary"): 0, ("payments", "secondary"): 18 * 86400}
