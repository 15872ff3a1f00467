"""The rotations, shifts, overrides and oncall endpoints of API.md, with isolation and query counts."""

from datetime import datetime

import pytest

from oncall.services import create_override, create_rotation
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.oncall.helpers import utc

ROTATION = {
    "team": "payments", "name": "Payments primary", "layer": "primary", "participants": ["alice", "bob"],
    "shift_length": "P7D", "handoff_at": "2026-03-02T09:00:00", "timezone": "Europe/Berlin",
}


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob], handoff_at="2026-03-02T09:00")


def test_lead_creates_a_rotation_and_reads_it_back(api, alice, bob):
    response = api.as_user(alice).post("/api/v1/rotations/", ROTATION, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ROTATION} == ROTATION
    listed = api.get("/api/v1/rotations/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_twelve_hour_shift_length_round_trips(api, alice, bob):
    response = api.as_user(alice).post("/api/v1/rotations/", {**ROTATION, "shift_length": "PT12H"}, format="json")

    assert response.status_code == 201
    assert response.json()["shift_length"] == "PT12H"


def test_member_may_not_create_a_rotation(api, alice, bob):
    response = api.as_user(bob).post("/api/v1/rotations/", ROTATION, format="json")

    assert response.status_code == 403
    assert "leads and managers" in response.json()["detail"]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"shift_length": "P1M"}, "shift_length", "whole hours, days or weeks"),
    ({"shift_length": "7 days"}, "shift_length", "ISO 8601"),
    ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
    ({"handoff_at": "2026-03-02T09:00:00+01:00"}, "handoff_at", "without an offset"),
    ({"handoff_at": "next monday"}, "handoff_at", "not a date-time"),
    ({"ends_at": "2026-03-01T00:00:00Z"}, "ends_at", "end after its first hand-off"),
    ({"participants": ["alice", "zed"]}, "participants", "Unknown users: zed"),
    ({"participants": ["alice", "charlie"]}, "participants", "charlie is not a member of team payments"),
    ({"participants": []}, "participants", ""),
    ({"team": "search"}, "team", "Unknown team 'search'"),
    ({"restrictions": [{"days": [9], "start": "09:00", "end": "17:00"}]}, "restrictions", "Monday = 0"),
])
def test_bad_rotation_input_is_a_400_saying_what_to_fix(api, alice, bob, charlie, change, field, words):
    response = api.as_user(alice).post("/api/v1/rotations/", {**ROTATION, **change}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body, body
    assert words in body["detail"], body["detail"]


def test_shifts_endpoint_returns_final_shifts_with_overrides(api, rotation, alice, bob):
    create_override(rotation=rotation, user=alice, start=utc(2026, 3, 10), end=utc(2026, 3, 11), by=alice)

    response = api.as_user(bob).get(f"/api/v1/rotations/{rotation.pk}/shifts/",
                                    {"start": "2026-03-02T08:00:00Z", "end": "2026-03-16T08:00:00Z"})

    assert response.status_code == 200
    assert response.json() == [
        {"user": "alice", "start": "2026-03-02T08:00:00Z", "end": "2026-03-09T08:00:00Z", "override": False},
        {"user": "bob", "start": "2026-03-09T08:00:00Z", "end": "2026-03-10T00:00:00Z", "override": False},
        {"user": "alice", "start": "2026-03-10T00:00:00Z", "end": "2026-03-11T00:00:00Z", "override": True},
        {"user": "bob", "start": "2026-03-11T00:00:00Z", "end": "2026-03-16T08:00:00Z", "override": False},
    ]


def test_shifts_window_must_end_after_it_starts(api, rotation, alice):
    response = api.as_user(alice).get(f"/api/v1/rotations/{rotation.pk}/shifts/",
                                      {"start": "2026-03-16T00:00:00Z", "end": "2026-03-02T00:00:00Z"})

    assert response.status_code == 400
    assert "end must be after start" in response.json()["detail"]


def test_outsider_gets_404_for_rotation_shifts_and_override(api, rotation, alice, charlie):
    override = create_override(rotation=rotation, user=alice, start=utc(2026, 3, 10), end=utc(2026, 3, 11))
    client = api.as_user(charlie)

    assert client.get(f"/api/v1/rotations/{rotation.pk}/").status_code == 404
    assert client.get(f"/api/v1/rotations/{rotation.pk}/shifts/").status_code == 404
    assert client.get(f"/api/v1/overrides/{override.pk}/").status_code == 404
    assert client.get("/api/v1/rotations/").json()["count"] == 0
    assert client.get("/api/v1/overrides/").json()["count"] == 0
    assert client.get("/api/v1/oncall/", {"team": "payments"}).status_code == 404
    posted = client.post("/api/v1/overrides/", {"rotation": rotation.pk, "user": "charlie",
                                                "start": "2026-03-10T00:00:00Z", "end": "2026-03-11T00:00:00Z"},
                         format="json")
    assert posted.status_code == 400
    assert f"Unknown rotation {rotation.pk}" in posted.json()["detail"]


def test_member_creates_an_override_and_it_shows_in_oncall(api, rotation, alice, bob):
    response = api.as_user(bob).post("/api/v1/overrides/", {
        "rotation": rotation.pk, "user": "bob", "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z",
    }, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["user"] == "bob"
    oncall = api.get("/api/v1/oncall/", {"at": "2026-03-03T12:00:00Z"}).json()
    assert oncall == [{
        "team": "payments", "rotation": rotation.pk, "rotation_name": "Payments primary", "layer": "primary",
        "user": "bob", "shift_start": "2026-03-03T00:00:00Z", "shift_end": "2026-03-04T00:00:00Z",
        "override": True,
    }]


@pytest.mark.parametrize(("body", "words"), [
    ({"user": "bob", "start": "2026-03-04T00:00:00Z", "end": "2026-03-03T00:00:00Z"}, "end after it starts"),
    ({"user": "zed", "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"}, "Unknown user 'zed'"),
    ({"user": "charlie", "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"}, "not a member"),
    ({"user": "bob", "start": "soon", "end": "2026-03-04T00:00:00Z"}, "start"),
])
def test_bad_override_input_is_a_400(api, rotation, alice, bob, charlie, body, words):
    response = api.as_user(alice).post("/api/v1/overrides/", {"rotation": rotation.pk, **body}, format="json")

    assert response.status_code == 400
    assert words in response.json()["detail"]


def test_oncall_defaults_to_now_and_rejects_a_bad_instant(api, rotation, alice):
    client = api.as_user(alice)
    assert client.get("/api/v1/oncall/").status_code == 200
    response = client.get("/api/v1/oncall/", {"at": "yesterday"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def _many_teams(n):
    for i in range(n):
        team = TeamFactory(slug=f"t{i}", timezone="America/New_York")
        people = [UserFactory(username=f"t{i}u{j}") for j in range(3)]
        for person in people:
            MembershipFactory(team=team, user=person)
        rotation = create_rotation(team=team, name="primary", participants=people, shift_length="P7D",
                                   handoff_at=datetime(2026, 1, 5, 9), timezone=team.timezone)
        create_override(rotation=rotation, user=people[1], start=utc(2026, 3, 3), end=utc(2026, 3, 4))


@pytest.mark.parametrize("teams", [2, 12])
def test_list_endpoints_use_a_constant_number_of_queries(api, sam, teams, django_assert_max_num_queries):
    _many_teams(teams)
    client = api.as_user(sam)

    with django_assert_max_num_queries(6):
        oncall = client.get("/api/v1/oncall/", {"at": "2026-03-03T12:00:00Z"})
    with django_assert_max_num_queries(6):
        rotations = client.get("/api/v1/rotations/")
    with django_assert_max_num_queries(6):
        overrides = client.get("/api/v1/overrides/")

    assert len(oncall.json()) == teams
    assert {row["user"] for row in oncall.json()} == {f"t{i}u1" for i in range(teams)}
    assert rotations.json()["count"] == teams
    assert overrides.json()["count"] == teams
