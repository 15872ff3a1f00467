"""Dates near year 1 or 9999 are refused with the range Vigil accepts, before anything is stored.

Two ways they used to fail: stored (a year-1 reading in Berlin is an
instant in year 0, which PostgreSQL keeps and psycopg cannot load back, so
every later page showing the row failed), or at once, when schedule
arithmetic ran off the calendar (OverflowError).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from oncall.models import Override, Rotation, RotationParticipant, SwapRequest
from oncall.services import create_override, import_schedule, request_swap, set_participants
from tests.oncall.helpers import utc

RANGE = "give a date and time between the years 1900 and 9000 (UTC)"
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob], handoff_at="2026-03-02T09:00")


@pytest.fixture
def search_rotation(make_rotation, search_team, charlie):
    return make_rotation(name="Search primary", participants=[charlie], team=search_team,
                         timezone="America/New_York")


@pytest.fixture
def carol(search_team):
    from oncall.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="carol", full_name="Carol Cole", timezone="America/New_York")
    MembershipFactory(team=search_team, user=user, role=Membership.Role.LEAD)
    return user


def _all_load(client, *urls):
    for url in urls:
        assert client.get(url).status_code == 200, url


# --- Browser forms: typed in the team's zone ------------------------------------------

def test_override_typed_at_year_one_in_berlin_is_refused(client, rotation, bob):
    client.force_login(bob)

    response = client.post("/oncall/teams/payments/overrides/new/", {
        "rotation": rotation.pk, "user": "bob", "start": "0001-01-01T00:00", "end": "0001-01-02T00:00"}, follow=True)

    page = response.content.decode()
    assert "start: 0001-01-01 00:00 is outside the dates Vigil accepts" in page and RANGE in page
    assert not Override.objects.exists()
    _all_load(client, "/api/v1/overrides/", "/oncall/teams/payments/schedule.yaml", "/oncall/teams/payments/")


def test_override_ending_after_year_9999_in_new_york_is_refused(client, search_rotation, charlie):
    client.force_login(charlie)

    response = client.post("/oncall/teams/search/overrides/new/", {
        "rotation": search_rotation.pk, "user": "charlie", "start": "9999-12-31T20:00", "end": "9999-12-31T23:59"},
        follow=True)

    assert "end: 9999-12-31 23:59 is outside the dates Vigil accepts" in response.content.decode()
    assert not Override.objects.exists()
    _all_load(client, "/api/v1/overrides/", "/oncall/teams/search/schedule.yaml")


def test_swap_after_year_9999_is_refused(client, search_rotation, charlie, carol):
    client.force_login(charlie)

    response = client.post("/oncall/teams/search/swaps/new/", {
        "rotation": search_rotation.pk, "recipient": "carol", "start": "9999-12-31T20:00",
        "end": "9999-12-31T23:59"}, follow=True)

    assert RANGE in response.content.decode()
    assert not SwapRequest.objects.exists()
    _all_load(client, "/oncall/me/", "/oncall/teams/search/")
    client.force_login(carol)
    _all_load(client, "/oncall/me/")


def test_swap_at_year_one_in_berlin_is_refused(client, rotation, alice, bob):
    client.force_login(bob)

    response = client.post("/oncall/teams/payments/swaps/new/", {
        "rotation": rotation.pk, "recipient": "alice", "start": "0001-01-01T00:00", "end": "0001-01-02T00:00"},
        follow=True)

    assert RANGE in response.content.decode()
    assert not SwapRequest.objects.exists()


def test_participants_from_year_one_are_refused_and_the_order_is_kept(client, rotation, alice, bob):
    client.force_login(alice)
    before = list(RotationParticipant.objects.values_list("user__username", "effective_from"))

    response = client.post("/oncall/teams/payments/participants/", {
        "rotation": rotation.pk, "participants": "bob,alice", "start": "0001-01-01T00:00"}, follow=True)

    assert RANGE in response.content.decode()
    assert list(RotationParticipant.objects.values_list("user__username", "effective_from")) == before
    _all_load(client, "/oncall/teams/payments/", "/api/v1/rotations/", "/api/v1/oncall/", "/oncall/")


def test_an_override_inside_the_range_is_still_typed_in_the_team_zone(client, rotation, bob):
    client.force_login(bob)

    client.post("/oncall/teams/payments/overrides/new/", {
        "rotation": rotation.pk, "user": "bob", "start": "1900-01-01T01:00", "end": "1900-01-01T02:00"})

    # 01:00 in Berlin (UTC+1) is midnight UTC: the first instant accepted.
    assert Override.objects.get().start_at == utc(1900, 1, 1)


# --- Services: the API, the admin and imports go through them ---------------------------

def test_services_refuse_instants_out_of_range(rotation, alice, bob):
    year_one = datetime(1, 1, 1, tzinfo=BERLIN)
    after_9999 = datetime(9999, 12, 31, 23, 59, tzinfo=NEW_YORK)

    with pytest.raises(ValidationError, match="0001-01-01 00:00 is outside the dates Vigil accepts"):
        create_override(rotation=rotation, user=bob, start=year_one, end=utc(2026, 1, 1))
    with pytest.raises(ValidationError, match="9999-12-31 23:59 is outside"):
        create_override(rotation=rotation, user=bob, start=utc(2026, 1, 1), end=after_9999)
    with pytest.raises(ValidationError, match="outside the dates"):
        request_swap(rotation=rotation, requester=bob, recipient=alice, start=utc(2026, 1, 1), end=after_9999)
    with pytest.raises(ValidationError, match="outside the dates"):
        set_participants(rotation=rotation, participants=[bob, alice], effective_from=year_one, by=alice)

    assert not Override.objects.exists() and not SwapRequest.objects.exists()
    assert RotationParticipant.objects.filter(effective_from__lt=utc(2000, 1, 1)).count() == 0


def test_api_override_before_1900_is_a_400_with_the_range(api, rotation, bob):
    response = api.as_user(bob).post("/api/v1/overrides/", {
        "rotation": rotation.pk, "user": "bob", "start": "0001-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        format="json")

    assert response.status_code == 400
    assert RANGE in response.json()["start"][0]
    assert not Override.objects.exists()


def test_admin_refuses_an_override_out_of_range_on_the_form(client, sam, rotation, bob):
    client.force_login(sam)

    response = client.post(reverse("admin:oncall_override_add"), {
        "rotation": rotation.pk, "user": bob.pk, "start_at_0": "0001-01-01", "start_at_1": "00:00:00",
        "end_at_0": "2026-01-01", "end_at_1": "00:00:00", "reason": ""})

    assert response.status_code == 200
    assert RANGE in response.content.decode()
    assert not Override.objects.exists()


# --- A rotation's first hand-off ------------------------------------------------------------

ROTATION = {"team": "payments", "name": "Old", "layer": "secondary", "participants": ["alice", "bob"],
            "shift_length": "P1D", "handoff_at": "0001-01-01T00:00", "timezone": "Europe/Berlin"}


def test_api_rotation_handing_off_at_year_one_is_a_400(api, alice, bob):
    response = api.as_user(alice).post("/api/v1/rotations/", ROTATION, format="json")

    assert response.status_code == 400
    assert "The first hand-off, 0001-01-01 00:00 in Europe/Berlin, is outside" in response.json()["handoff_at"][0]
    assert not Rotation.objects.exists()


def test_api_rotation_ending_after_year_9000_is_a_400(api, alice, bob):
    response = api.as_user(alice).post("/api/v1/rotations/", {
        **ROTATION, "handoff_at": "2026-03-02T09:00", "ends_at": "9999-12-31T00:00:00Z"}, format="json")

    assert response.status_code == 400
    assert response.json()["ends_at"] == [f"9999-12-31 00:00 is outside the dates Vigil accepts; {RANGE}."]
    assert not Rotation.objects.exists()


def test_rotation_form_handing_off_at_year_one_is_refused_on_its_field(client, alice, bob):
    client.force_login(alice)

    response = client.post("/oncall/teams/payments/rotations/new/", {
        "name": "Old", "layer": "primary", "participants": "alice,bob", "shift_length": "P7D",
        "handoff_at": "0001-01-01T00:00", "timezone": "Europe/Berlin"})

    assert response.status_code == 200
    assert response.context["form"].errors["handoff_at"] == [
        "0001-01-01 00:00 in Europe/Berlin is outside the dates Vigil accepts; " + RANGE + "."]
    assert not Rotation.objects.exists()


@pytest.mark.parametrize(("zone", "handoff"), [("Europe/Berlin", "0001-01-01T00:00"),
                                               ("America/New_York", "9999-12-31T23:00")])
def test_schedule_file_handing_off_off_the_calendar_is_refused(payments, alice, zone, handoff):
    text = (f"rotations:\n- {{name: R, layer: primary, timezone: {zone}, shift_length: P7D, handoff_at: '{handoff}', "
            "participants: [{from: null, users: [alice]}]}\n")

    with pytest.raises(ValidationError, match=f"The first hand-off, .* in {zone}, is outside the dates"):
        import_schedule(team=payments, text=text)
    assert not Rotation.objects.exists()


@pytest.mark.parametrize(("start", "end", "shown"), [
    ("0001-01-01T00:00:00+01:00", "2026-01-01T00:00:00+00:00", "override 1 start"),
    ("2026-01-01T00:00:00+00:00", "9999-12-31T23:59:59-05:00", "override 1 end"),
])
def test_schedule_file_override_off_the_calendar_is_refused(rotation, alice, start, end, shown):
    text = ("rotations:\n- {name: Payments primary, layer: primary, timezone: Europe/Berlin, shift_length: P7D, "
            "handoff_at: '2026-03-02T09:00', participants: [{from: null, users: [alice, bob]}], "
            f"overrides: [{{user: alice, start: '{start}', end: '{end}'}}]}}\n")

    with pytest.raises(ValidationError) as refused:
        import_schedule(team=rotation.team, text=text)

    assert "is outside the dates Vigil accepts" in refused.value.messages[0]
    assert not Override.objects.exists()


# --- Reading windows -----------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    {"start": "9999-12-31T00:00:00Z"},
    {"start": "9999-12-01T00:00:00Z", "end": "9999-12-31T23:00:00Z"},
    {"start": "0001-01-01T00:00:00Z", "end": "0001-01-02T00:00:00Z"},
])
def test_shift_window_near_the_calendar_ends_is_a_400(api, rotation, bob, query):
    response = api.as_user(bob).get(f"/api/v1/rotations/{rotation.pk}/shifts/", query)

    assert response.status_code == 400
    field = "end" if "end" in query and query["start"].startswith("9999-12-01") else "start"
    assert RANGE in response.json()[field][0]


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z"])
def test_who_is_on_call_near_the_calendar_ends_is_a_400(api, rotation, bob, at):
    response = api.as_user(bob).get("/api/v1/oncall/", {"at": at})

    assert response.status_code == 400
    assert RANGE in response.json()["at"][0]


@pytest.mark.parametrize("url", ["/oncall/teams/payments/load/", "/oncall/teams/payments/load.csv"])
@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_load_report_for_a_month_off_the_calendar_is_a_400(client, rotation, bob, url, month):
    client.force_login(bob)

    response = client.get(url, {"from": month})

    assert response.status_code == 400
    assert response.content.decode() == (f"The month {month} is outside the dates Vigil accepts; "
                                         "give one from 1900-01 to 9000-12.")


# --- How long an override or swap may run --------------------------------------------------

def test_an_override_or_swap_runs_at_most_366_days(rotation, alice, bob):
    start = utc(2026, 1, 1)
    create_override(rotation=rotation, user=bob, start=start, end=utc(2027, 1, 2))  # 366 days: allowed

    with pytest.raises(ValidationError, match="An override lasts at most 366 days"):
        create_override(rotation=rotation, user=bob, start=start, end=utc(2027, 1, 2, 0, 1))
    with pytest.raises(ValidationError, match="A swap lasts at most 366 days"):
        request_swap(rotation=rotation, requester=bob, recipient=alice, start=start, end=utc(2126, 1, 1))
    assert Override.objects.count() == 1 and not SwapRequest.objects.exists()


def test_api_and_admin_refuse_an_override_of_centuries(api, client, sam, rotation, bob):
    response = api.as_user(bob).post("/api/v1/overrides/", {
        "rotation": rotation.pk, "user": "bob", "start": "2026-01-01T00:00:00Z", "end": "8000-01-01T00:00:00Z"},
        format="json")
    assert response.status_code == 400
    assert "at most 366 days" in response.json()["end"][0]

    client.force_login(sam)
    response = client.post(reverse("admin:oncall_override_add"), {
        "rotation": rotation.pk, "user": bob.pk, "start_at_0": "2026-01-01", "start_at_1": "00:00:00",
        "end_at_0": "8000-01-01", "end_at_1": "00:00:00", "reason": ""})
    assert response.status_code == 200
    assert "at most 366 days" in response.content.decode()
    assert not Override.objects.exists()
