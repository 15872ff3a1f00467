"""The timeline over HTTP: every event, oldest first, with who did it."""

from datetime import datetime

import pytest

pytestmark = pytest.mark.django_db


def test_timeline_shows_declare_acknowledge_note_role_and_resolve_in_order_with_actors(api, alice, bob, payments):
    client = api.as_user(alice)
    # A SEV3: resolving a SEV1 or SEV2 adds its postmortem to the timeline too (tests/postmortems/test_review.py).
    number = client.post("/api/v1/incidents/", {"title": "Checkout down", "severity": "SEV3", "team": "payments"},
                         format="json").data["number"]
    base = f"/api/v1/incidents/{number}/"
    assert api.as_user(bob).post(f"{base}acknowledge/", {"note": "on it"}, format="json").status_code == 200
    assert api.as_user(bob).post(f"{base}notes/", {"body": "Rolled back release 42"}, format="json").status_code == 201
    assert api.as_user(alice).post(f"{base}roles/", {"role": "commander", "user": "bob"}, format="json").status_code == 201
    assert api.as_user(bob).post(f"{base}resolve/", {"note": "error rate normal"}, format="json").status_code == 200

    response = api.as_user(alice).get(f"{base}timeline/")
    assert response.status_code == 200
    events = response.data["results"]
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("created", "alice"),
        ("status_changed", "bob"),
        ("note", "bob"),
        ("role_assigned", "alice"),
        ("status_changed", "bob"),
    ]
    times = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in events]
    assert times == sorted(times)
    assert all(t.utcoffset() is not None for t in times)
    assert events[1]["data"] == {"from": "triggered", "to": "acknowledged", "transition": "acknowledge", "note": "on it"}
    assert events[2]["summary"] == "Rolled back release 42"
    assert events[3]["data"]["role"] == "commander"
    assert events[3]["data"]["user"] == "bob"
    assert events[4]["data"]["to"] == "resolved"
    assert set(events[0]) == {"at", "kind", "actor", "summary", "data"}


def test_timeline_of_a_system_event_has_no_actor(api, alice, payments):
    from tests.factories import make_incident

    incident = make_incident(team=payments, by=None)
    events = api.as_user(alice).get(f"/api/v1/incidents/{incident.number}/timeline/").data["results"]
    assert events[0]["kind"] == "created"
    assert events[0]["actor"] is None


def test_field_changes_and_status_updates_appear_on_the_timeline(api, alice, payments):
    client = api.as_user(alice)
    number = client.post("/api/v1/incidents/", {"title": "Slow", "severity": "SEV3", "team": "payments"},
                         format="json").data["number"]
    base = f"/api/v1/incidents/{number}/"
    client.patch(base, {"severity": "SEV1"}, format="json")
    client.post(f"{base}updates/", {"state": "investigating", "body": "We are on it", "public": True}, format="json")
    events = client.get(f"{base}timeline/").data["results"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["created", "field_changed", "status_update"]
    assert events[1]["data"]["from"] == "SEV3"
    assert events[1]["data"]["to"] == "SEV1"
    assert events[2]["data"]["public"] is True


def test_a_severity_change_shows_the_old_and_new_severity_by_name(api, alice, payments):
    client = api.as_user(alice)
    number = client.post("/api/v1/incidents/", {"title": "Slow", "severity": "SEV3", "team": "payments"},
                         format="json").data["number"]
    assert client.patch(f"/api/v1/incidents/{number}/", {"severity": "SEV1"}, format="json").status_code == 200
    events = client.get(f"/api/v1/incidents/{number}/timeline/").data["results"]
    change = next(e for e in events if e["kind"] == "field_changed")
    assert change["summary"] == "severity SEV3 → SEV1"
    assert {key: change["data"][key] for key in ("field", "old", "new")} == {
        "field": "severity", "old": "SEV3", "new": "SEV1"}
    assert change["actor"] == "alice"


def test_each_field_change_shows_its_old_and_new_value(api, alice, payments):
    client = api.as_user(alice)
    number = client.post("/api/v1/incidents/", {"title": "Slow", "severity": "SEV2", "team": "payments"},
                         format="json").data["number"]
    client.patch(f"/api/v1/incidents/{number}/", {"title": "Checkout slow in EU", "users_affected": 1200},
                 format="json")
    events = client.get(f"/api/v1/incidents/{number}/timeline/").data["results"]
    changes = {e["data"]["field"]: e for e in events if e["kind"] == "field_changed"}
    assert changes["title"]["summary"] == "title Slow → Checkout slow in EU"
    assert (changes["title"]["data"]["old"], changes["title"]["data"]["new"]) == ("Slow", "Checkout slow in EU")
    assert changes["users_affected"]["summary"] == "users affected (none) → 1200"
    assert (changes["users_affected"]["data"]["old"], changes["users_affected"]["data"]["new"]) == (None, 1200)
