"""The postmortems API as API.md draws it: shapes, creation, filters and transitions."""

import pytest

from postmortems.models import FactorTag
from postmortems.services import create_action_item, start_postmortem, transition_postmortem

from .conftest import declare, drive

pytestmark = pytest.mark.django_db


def test_a_postmortem_has_the_fields_api_md_names(api, postmortem, alice):
    body = api.as_user(alice).get(f"/api/v1/postmortems/{postmortem.pk}/").json()
    for name in ("incident", "summary", "impact", "root_cause", "detection", "response", "lessons", "due_at",
                 "status"):
        assert name in body, name
    assert body["incident"] == postmortem.incident.number and body["status"] == "draft"
    assert body["owner"] == "bob" and body["severity"] == "SEV1" and body["team"] == "payments"
    assert body["required"] is True and body["version"] == postmortem.version
    assert body["durations"]["resolve"] == 70 * 60
    assert body["allowed_transitions"] == ["submit"]
    assert body["timeline"] and set(body["timeline"][0]) == {"id", "at", "kind", "actor", "summary", "key"}


def test_the_list_filters_by_incident_status_and_owner(api, postmortem, alice):
    client = api.as_user(alice)
    assert client.get(f"/api/v1/postmortems/?incident={postmortem.incident.number.lower()}").json()["count"] == 1
    assert client.get("/api/v1/postmortems/?incident=INC-1999-0001").json()["count"] == 0
    assert client.get("/api/v1/postmortems/?status=published").json()["count"] == 0
    assert client.get("/api/v1/postmortems/?owner=bob").json()["count"] == 1
    assert client.get("/api/v1/postmortems/?status=bogus").status_code == 400


def test_posting_starts_a_postmortem_of_a_resolved_sev3(api, payments, alice, bob):
    incident = drive(declare(payments, alice, "SEV3"), by=alice)
    response = api.as_user(alice).post("/api/v1/postmortems/", {
        "incident": incident.number, "summary": "Search was slow.", "owner": "bob", "status": "draft"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["incident"], body["summary"], body["owner"], body["required"], body["due_at"]) == (
        incident.number, "Search was slow.", "bob", False, None)
    again = api.as_user(alice).post("/api/v1/postmortems/", {"incident": incident.number}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "postmortem_exists"


def test_posting_for_an_open_incident_says_to_resolve_it_first(api, payments, alice):
    incident = declare(payments, alice, "SEV3")
    response = api.as_user(alice).post("/api/v1/postmortems/", {"incident": incident.number}, format="json")
    assert response.status_code == 400 and "resolve it first" in response.json()["incident"][0]


def test_contributing_factors_are_tagged_from_the_teams_vocabulary(api, postmortem, payments, alice):
    FactorTag.objects.create(team=payments, name="Acquirer")
    client = api.as_user(alice)
    url = f"/api/v1/postmortems/{postmortem.pk}/"
    factors = [{"tag": "acquirer", "description": "Their certificate expired."}, {"tag": "Detection gap"}]
    response = client.patch(url, {"version": postmortem.version, "contributing_factors": factors}, format="json")
    assert response.status_code == 200, response.json()
    assert [(f["tag"], f["description"]) for f in response.json()["contributing_factors"]] == [
        ("Acquirer", "Their certificate expired."), ("Detection gap", "")]
    refused = client.patch(url, {"version": response.json()["version"], "contributing_factors": [{"tag": "Bogus"}]},
                           format="json")
    assert refused.status_code == 400 and "Unknown factor tag 'Bogus'" in refused.json()["contributing_factors"][0]


def test_action_items_have_the_fields_api_md_names(api, postmortem, alice, bob):
    response = api.as_user(alice).post("/api/v1/action-items/", {
        "postmortem": postmortem.pk, "title": "Alert on expiry", "owner": "bob", "due_at": "2026-04-01T09:00:00Z",
        "priority": "P1", "success_criteria": "Fires 14 days ahead."}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("postmortem", "title", "owner", "due_at", "priority", "success_criteria", "status")} == {
        "postmortem": postmortem.pk, "title": "Alert on expiry", "owner": "bob", "due_at": "2026-04-01T09:00:00Z",
        "priority": "P1", "success_criteria": "Fires 14 days ahead.", "status": "open"}
    done = api.as_user(bob).patch(f"/api/v1/action-items/{body['id']}/", {"status": "wont_do"}, format="json")
    assert done.status_code == 400 and "wont_do_reason" in done.json()
    dropped = api.as_user(bob).patch(f"/api/v1/action-items/{body['id']}/",
                                     {"status": "wont_do", "wont_do_reason": "Vendor does it"}, format="json")
    assert dropped.json()["status"] == "wont_do" and dropped.json()["allowed_statuses"] == ["open"]


def test_an_action_item_names_its_postmortem_or_its_incident(api, payments, alice):
    incident = declare(payments, alice, "SEV2")
    client = api.as_user(alice)
    response = client.post("/api/v1/action-items/", {"incident": incident.number, "title": "During"}, format="json")
    assert response.status_code == 201 and response.json()["postmortem"] is None
    neither = client.post("/api/v1/action-items/", {"title": "Nowhere"}, format="json")
    assert neither.status_code == 400 and "Give the postmortem" in neither.json()["postmortem"][0]


def test_action_item_filters(api, resolved_sev1, postmortem, alice, bob):
    create_action_item(incident=resolved_sev1, by=alice, title="Mine", owner=bob)
    client = api.as_user(alice)
    assert client.get(f"/api/v1/action-items/?postmortem={postmortem.pk}").json()["count"] == 1
    assert client.get("/api/v1/action-items/?postmortem=abc").json()["count"] == 0
    assert client.get("/api/v1/action-items/?owner=alice").json()["count"] == 0
    assert client.get("/api/v1/action-items/?team=payments&status=open").json()["count"] == 1
    assert client.get("/api/v1/action-items/?overdue=true").json()["count"] == 0


def test_an_owner_is_a_username_or_null_never_an_empty_string(api, resolved_sev1, alice):
    item = create_action_item(incident=resolved_sev1, by=alice, title="Mine", owner=alice)
    client = api.as_user(alice)
    refused = client.patch(f"/api/v1/action-items/{item.pk}/", {"owner": ""}, format="json")
    assert refused.status_code == 400 and refused.json()["owner"] == ["Give a username, or null for nobody."]
    cleared = client.patch(f"/api/v1/action-items/{item.pk}/", {"owner": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["owner"] is None


def test_the_list_puts_unpublished_ones_first_soonest_due_first(api, payments, alice, bob):
    sev1 = drive(declare(payments, alice, "SEV1"), by=alice, commander=bob).postmortem
    sev2 = drive(declare(payments, alice, "SEV2"), by=alice, commander=bob).postmortem
    optional = start_postmortem(incident=drive(declare(payments, alice, "SEV3"), by=alice), by=alice)
    for name, by in (("submit", bob), ("approve", alice), ("publish", bob)):
        sev1 = transition_postmortem(postmortem=sev1, transition=name, by=by)
    ids = [p["id"] for p in api.as_user(alice).get("/api/v1/postmortems/").json()["results"]]
    assert ids == [sev2.pk, optional.pk, sev1.pk]  # due in 7 days, no due date, published
