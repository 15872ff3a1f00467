"""On-call pages: who is on call, team page, my shifts, forms without JavaScript, isolation."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from oncall.models import Override, Rotation, SwapRequest
from oncall.schedule import final_shifts
from oncall.services import create_override, decline_swap, request_swap
from tests.oncall.helpers import table, utc


@pytest.fixture
def rotation(make_rotation, alice, bob):
    # Started four weeks ago on this weekday and hour, so somebody is on call now.
    start = timezone.now().astimezone(timezone.get_current_timezone()) - timedelta(days=28)
    return make_rotation(name="Payments primary", participants=[alice, bob], timezone="UTC",
                         handoff_at=start.strftime("%Y-%m-%dT%H:00"))


def test_login_is_required(client, rotation):
    assert client.get("/oncall/").status_code == 302
    assert client.get("/oncall/teams/payments/").status_code == 302


def test_org_page_shows_who_is_on_call_now(client, rotation, alice):
    client.force_login(alice)

    page = client.get("/oncall/").content.decode()

    assert "Payments primary" in page
    assert "Alice Archer" in page  # shift 4 (even) belongs to alice


def test_team_page_shows_now_next_calendar_and_gaps(client, make_rotation, rotation, alice, bob):
    make_rotation(name="Payments secondary", layer="secondary", participants=[bob], timezone="UTC",
                  handoff_at=(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:00"))
    client.force_login(bob)

    response = client.get("/oncall/teams/payments/")

    page = response.content.decode()
    layers = response.context["layers"]
    assert [layer.layer for layer in layers] == ["primary", "secondary"]
    assert layers[0].now[0].user == alice and layers[0].next[0][1].user == bob
    assert layers[0].gaps == []
    # The secondary layer starts in three days: a gap until then, shown on the page.
    assert len(layers[1].gaps) == 1 and layers[1].now == []
    assert "Nobody is on call" in page and "Coverage gaps in the next 4 weeks" in page
    assert len(layers[0].days) == 28


def test_outsider_gets_404_for_team_pages(client, rotation, charlie):
    client.force_login(charlie)

    for url in ("/oncall/teams/payments/", "/oncall/teams/payments/load/", "/oncall/teams/payments/load.csv",
                "/oncall/teams/payments/schedule.yaml"):
        assert client.get(url).status_code == 404, url
    assert client.post("/oncall/teams/payments/overrides/new/", {}).status_code == 404


def test_member_creates_an_override_with_the_form(client, rotation, alice, bob):
    client.force_login(bob)

    response = client.post("/oncall/teams/payments/overrides/new/", {
        "rotation": rotation.pk, "user": "bob", "start": "2030-01-02T09:00", "end": "2030-01-02T17:00",
    }, follow=True)

    assert response.status_code == 200
    override = Override.objects.get()
    # Typed in the team's zone (Europe/Berlin, winter): 09:00 local is 08:00 UTC.
    assert (override.user, override.start_at.isoformat()) == (bob, "2030-01-02T08:00:00+00:00")
    assert "Override saved." in response.content.decode()


def test_override_form_errors_are_shown(client, rotation, bob):
    client.force_login(bob)

    response = client.post("/oncall/teams/payments/overrides/new/", {
        "rotation": rotation.pk, "user": "bob", "start": "2030-01-02T17:00", "end": "2030-01-02T09:00",
    }, follow=True)

    assert Override.objects.count() == 0
    assert "The end must be after the start." in response.content.decode()


def test_lead_creates_a_rotation_with_the_form_and_member_may_not(client, alice, bob):
    form = {"name": "Weekdays", "layer": "primary", "participants": "bob, alice", "shift_length": "P1D",
            "handoff_at": "2030-01-07T09:00", "timezone": "Europe/Berlin",
            "restrict_days": ["0", "1", "2", "3", "4"], "restrict_start": "09:00", "restrict_end": "17:00"}
    client.force_login(bob)
    assert client.post("/oncall/teams/payments/rotations/new/", form).status_code == 403

    client.force_login(alice)
    response = client.post("/oncall/teams/payments/rotations/new/", form)

    assert response.status_code == 302
    rotation = Rotation.objects.get(name="Weekdays")
    assert rotation.restrictions == [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}]
    assert rotation.shift_length == "P1D"


def test_rotation_form_rejects_non_members(client, alice, charlie):
    client.force_login(alice)

    response = client.post("/oncall/teams/payments/rotations/new/", {
        "name": "X", "layer": "primary", "participants": "alice, charlie", "shift_length": "P7D",
        "handoff_at": "2030-01-07T09:00", "timezone": "Europe/Berlin"})

    assert response.status_code == 200
    assert "Not members of Payments: charlie." in response.content.decode()


def test_swap_request_then_accept_creates_an_override_and_emails_both(client, rotation, alice, bob, deliver_queued):
    client.force_login(alice)
    client.post("/oncall/teams/payments/swaps/new/", {
        "rotation": rotation.pk, "recipient": "bob", "start": "2030-02-01T09:00", "end": "2030-02-02T09:00",
        "message": "Dentist"})
    swap = SwapRequest.objects.get()
    deliver_queued()
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]

    client.force_login(alice)
    assert client.post(f"/oncall/swaps/{swap.pk}/accept/").status_code == 403  # only bob may accept
    swap.refresh_from_db()
    assert swap.status == "requested"

    client.force_login(bob)
    page = client.get("/oncall/me/").content.decode()
    assert "Alice Archer asks Bob Baker" in page
    client.post(f"/oncall/swaps/{swap.pk}/accept/")

    swap.refresh_from_db()
    assert swap.status == "accepted"
    assert (swap.override.user, swap.override.rotation) == (bob, rotation)
    deliver_queued()
    accepted = mail.outbox[2:]
    assert sorted(m.to[0] for m in accepted) == ["alice@example.com", "bob@example.com"]
    assert all("accepted" in m.subject for m in accepted)


def test_declining_a_swap_creates_no_override(rotation, alice, bob):
    now = timezone.now()
    swap = request_swap(rotation=rotation, requester=alice, recipient=bob, start=now, end=now + timedelta(hours=4))

    decline_swap(swap=swap, by=bob)

    swap.refresh_from_db()
    assert swap.status == "declined" and Override.objects.count() == 0


def test_my_shifts_lists_overrides_in_my_zone(client, rotation, alice, bob):
    now = timezone.now()
    create_override(rotation=rotation, user=bob, start=now + timedelta(days=2), end=now + timedelta(days=3))
    client.force_login(bob)

    response = client.get("/oncall/me/")

    assert any(s.override and s.user == bob for s in response.context["shifts"])
    assert "(override)" in response.content.decode()


def test_handoff_note_form_shows_note_on_team_page(client, rotation, alice):
    client.force_login(alice)

    client.post("/oncall/teams/payments/notes/new/", {"rotation": rotation.pk, "body": "DB failover at 3am"})

    assert "DB failover at 3am" in client.get("/oncall/teams/payments/").content.decode()


def test_lead_changes_participants_from_a_moment_with_the_form(client, make_rotation, alice, bob):
    rotation = make_rotation(name="Weekly", participants=[alice, bob], handoff_at="2030-01-07T09:00")
    client.force_login(bob)
    form = {"rotation": rotation.pk, "participants": "bob, alice", "start": "2030-01-14T09:00"}
    assert client.post("/oncall/teams/payments/participants/", form).status_code == 403

    client.force_login(alice)
    client.post("/oncall/teams/payments/participants/", form)

    assert table(final_shifts(rotation, utc(2030, 1, 7, 8), utc(2030, 1, 28, 8))) == [
        ("alice", "2030-01-07T08:00:00+00:00", "2030-01-14T08:00:00+00:00", False),
        ("alice", "2030-01-14T08:00:00+00:00", "2030-01-21T08:00:00+00:00", False),
        ("bob", "2030-01-21T08:00:00+00:00", "2030-01-28T08:00:00+00:00", False),
    ]
