"""The incident API: declare, list and filter, read, edit, drive the lifecycle, notes, roles, updates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, Service
from incidents.services import add_note, assign_role, post_status_update, transition_incident
from tests.factories import MembershipFactory, ServiceFactory, UserFactory, make_incident, severity
from tests.incidents.lifecycle_table import LEGAL, incident_in

pytestmark = pytest.mark.django_db



def url(incident, tail=""):
    return f"/api/v1/incidents/{incident.number}/{tail}"


# --- Declare ---------------------------------------------------------------------

def test_member_declares_an_incident_with_references_by_slug(api, alice, payments, checkout):
    response = api.as_user(alice).post("/api/v1/incidents/", {
        "title": "Card payments failing", "severity": "SEV1", "team": "payments", "services": ["checkout"],
        "category": "outage", "description": "5xx from the card processor", "impact": "No one can pay",
        "users_affected": 1200, "revenue_impact": "5400.50", "customer_facing": True,
        "started_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
    }, format="json")
    assert response.status_code == 201, response.data
    body = response.data
    assert body["number"].startswith(f"INC-{timezone.now().year}-")
    assert body["status"] == "triggered"
    assert body["severity"] == "SEV1"
    assert body["team"] == "payments"
    assert body["services"] == ["checkout"]
    assert body["declared_by"] == "alice"
    assert body["source"] == "api"
    assert body["users_affected"] == 1200
    assert body["revenue_impact"] == "5400.50"
    assert body["customer_facing"] is True
    assert body["allowed_transitions"] == ["acknowledge", "resolve"]
    assert body["commander"] is None
    assert Incident.objects.get(number=body["number"]).source == "api"


def test_only_title_severity_and_team_are_required(api, bob, payments):
    response = api.as_user(bob).post(
        "/api/v1/incidents/", {"title": "Slow", "severity": "sev3", "team": "payments"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["severity"] == "SEV3"
    assert response.data["category"] == "other"
    assert response.data["services"] == []


# --- Read and edit --------------------------------------------------------------

def test_detail_is_found_by_number_with_every_documented_field(api, alice, payments, checkout):
    incident = make_incident(team=payments, by=alice, services=[checkout])
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    response = api.as_user(alice).get(url(incident))
    assert response.status_code == 200
    for name in ["number", "title", "status", "severity", "category", "team", "services", "commander",
                 "created_at", "started_at", "acknowledged_at", "identified_at", "mitigated_at",
                 "resolved_at", "closed_at", "alert_count"]:
        assert name in response.data
    assert response.data["commander"] == "alice"
    assert response.data["roles"][0]["role"] == "commander"


def test_patch_changes_details_and_records_who(api, alice, bob, payments, checkout):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(bob).patch(
        url(incident), {"title": "Checkout down in EU", "severity": "SEV1", "services": ["checkout"]}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["title"] == "Checkout down in EU"
    assert response.data["severity"] == "SEV1"
    assert response.data["services"] == ["checkout"]
    incident.refresh_from_db()
    assert incident.severity == severity("SEV1")
    assert incident.history.latest().history_user == bob


def test_patching_status_is_refused_pointing_at_the_transitions(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).patch(url(incident), {"status": "resolved"}, format="json")
    assert response.status_code == 400
    assert "acknowledge" in response.data["status"][0]
    assert "transition" in response.data["detail"]
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_patching_the_team_is_refused(api, alice, payments, search_team):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).patch(url(incident), {"team": "search"}, format="json")
    assert response.status_code == 400
    assert "team" in response.data


# --- Lifecycle -------------------------------------------------------------------

@pytest.mark.parametrize(("source", "name"), sorted(LEGAL))
def test_every_legal_transition_over_http_moves_status_and_stamps_time(api, alice, payments, source, name):
    incident = incident_in(source, payments, alice)
    before = timezone.now()
    response = api.as_user(alice).post(url(incident, f"{name}/"), {"note": "why not"}, format="json")
    assert response.status_code == 200, response.data
    target, stamp = LEGAL[(source, name)]
    assert response.data["status"] == target
    if stamp:
        assert response.data[stamp] is not None
        incident.refresh_from_db()
        assert getattr(incident, stamp) >= before
    assert incident.history.latest().history_change_reason == "why not"


def test_a_transition_needs_no_body(api, bob, payments):
    incident = make_incident(team=payments, by=bob)
    response = api.as_user(bob).post(url(incident, "acknowledge/"))
    assert response.status_code == 200
    assert response.data["status"] == "acknowledged"
    assert response.data["allowed_transitions"] == ["investigate", "identify", "resolve"]


@pytest.mark.parametrize(("source", "name", "allowed"), [
    ("triggered", "close", ["acknowledge", "resolve"]),
    ("triggered", "mitigate", ["acknowledge", "resolve"]),
    ("acknowledged", "acknowledge", ["investigate", "identify", "resolve"]),
    ("resolved", "acknowledge", ["close", "reopen"]),
    ("closed", "reopen", []),
])
def test_illegal_transition_is_409_with_status_and_allowed(api, alice, payments, source, name, allowed):
    incident = incident_in(source, payments, alice)
    response = api.as_user(alice).post(url(incident, f"{name}/"), format="json")
    assert response.status_code == 409
    assert response.data["code"] == "illegal_transition"
    assert response.data["status"] == source
    assert response.data["allowed"] == allowed
    assert incident.number in response.data["detail"]
    incident.refresh_from_db()
    assert incident.status == source


# --- Notes, roles, updates ---------------------------------------------------------

def test_notes_are_added_and_listed_oldest_first(api, alice, bob, payments):
    incident = make_incident(team=payments, by=alice)
    assert api.as_user(alice).post(url(incident, "notes/"), {"body": "Looking at the DB"}, format="json").status_code == 201
    response = api.as_user(bob).post(url(incident, "notes/"), {"body": "Rolled back"}, format="json")
    assert response.status_code == 201
    assert response.data["author"] == "bob"
    listed = api.get(url(incident, "notes/")).data
    assert [n["body"] for n in listed["results"]] == ["Looking at the DB", "Rolled back"]


def test_roles_are_assigned_listed_and_removed(api, alice, bob, payments):
    incident = make_incident(team=payments, by=alice)
    client = api.as_user(alice)
    response = client.post(url(incident, "roles/"), {"role": "commander", "user": "bob"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["user"] == "bob"
    assert response.data["assigned_by"] == "alice"
    again = client.post(url(incident, "roles/"), {"role": "commander", "user": "bob"}, format="json")
    assert again.status_code == 200
    assert client.get(url(incident)).data["commander"] == "bob"
    listed = client.get(url(incident, "roles/")).data["results"]
    assert [(r["role"], r["user"]) for r in listed] == [("commander", "bob")]
    deleted = client.delete(url(incident, f"roles/{listed[0]['id']}/"))
    assert deleted.status_code == 204
    assert client.get(url(incident)).data["commander"] is None


def test_a_role_can_go_to_someone_outside_the_incidents_team_if_they_share_a_team_with_the_caller(
    api, sam, payments, search_team, charlie
):
    incident = make_incident(team=payments, by=sam)
    response = api.as_user(sam).post(url(incident, "roles/"), {"role": "sme", "user": "charlie"}, format="json")
    assert response.status_code == 201


def test_a_deactivated_person_cannot_take_a_role(api, alice, bob, payments):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(url(incident, "roles/"), {"role": "scribe", "user": "bob"}, format="json")
    assert response.status_code == 400
    assert "deactivated" in response.data["user"][0]


def test_status_updates_are_posted_and_listed(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(
        url(incident, "updates/"), {"state": "identified", "body": "Fix rolling out", "public": True}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["public"] is True
    assert response.data["author"] == "alice"
    listed = api.get(url(incident, "updates/")).data["results"]
    assert [(u["state"], u["body"]) for u in listed] == [("identified", "Fix rolling out")]


# --- Lists, filters, pagination ---------------------------------------------------

def numbers(response):
    assert response.status_code == 200, response.data
    return {row["number"] for row in response.data["results"]}


def test_incident_list_filters_by_status_severity_team_service_dates_and_search(api, alice, payments, checkout):
    old = make_incident(team=payments, by=alice, title="Old database outage", sev="SEV1",
                        now=timezone.now() - timedelta(days=10))
    acked = make_incident(team=payments, by=alice, title="Checkout latency", sev="SEV3", services=[checkout])
    acked = transition_incident(incident=acked, transition="acknowledge", by=alice)
    fresh = make_incident(team=payments, by=alice, title="Webhooks delayed", sev="SEV2",
                          description="the queue is backed up")
    client = api.as_user(alice)
    base = "/api/v1/incidents/"
    assert numbers(client.get(base)) == {old.number, acked.number, fresh.number}
    assert numbers(client.get(base, {"status": "acknowledged"})) == {acked.number}
    assert numbers(client.get(base, {"status": "acknowledged,triggered"})) == {acked.number, old.number, fresh.number}
    assert numbers(client.get(base, {"severity": "SEV1"})) == {old.number}
    assert numbers(client.get(base, {"team": "payments"})) == {old.number, acked.number, fresh.number}
    assert numbers(client.get(base, {"service": "checkout"})) == {acked.number}
    day_ago = (timezone.now() - timedelta(days=1)).isoformat()
    assert numbers(client.get(base, {"created_after": day_ago})) == {acked.number, fresh.number}
    assert numbers(client.get(base, {"created_before": day_ago})) == {old.number}
    assert numbers(client.get(base, {"created_before": "2000-01-01"})) == set()
    assert numbers(client.get(base, {"q": "database"})) == {old.number}
    assert numbers(client.get(base, {"q": "BACKED up"})) == {fresh.number}
    assert numbers(client.get(base, {"q": acked.number})) == {acked.number}


def test_list_is_paginated_newest_first(api, alice, payments):
    made = [make_incident(team=payments, by=alice, now=timezone.now() - timedelta(minutes=i)) for i in range(3)]
    client = api.as_user(alice)
    response = client.get("/api/v1/incidents/", {"page_size": 2})
    assert set(response.data) == {"count", "next", "previous", "results"}
    assert response.data["count"] == 3
    assert [r["number"] for r in response.data["results"]] == [made[0].number, made[1].number]
    assert "page=2" in response.data["next"]
    assert response.data["previous"] is None
    second = client.get(response.data["next"])
    assert [r["number"] for r in second.data["results"]] == [made[2].number]
    assert second.data["next"] is None


def test_default_page_is_50_and_page_size_is_capped_at_500(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    for i in range(501):
        add_note(incident=incident, body=f"note {i}", by=alice)
    client = api.as_user(alice)
    default = client.get(url(incident, "notes/"))
    assert default.data["count"] == 501
    assert len(default.data["results"]) == 50
    capped = client.get(url(incident, "notes/"), {"page_size": 100000})
    assert len(capped.data["results"]) == 500
    assert capped.data["next"] is not None


def _make_many(n, team, by, service):
    for i in range(n):
        incident = make_incident(team=team, by=by, title=f"Incident {i}", services=[service])
        assign_role(incident=incident, role="commander", user=by, by=by)
        add_note(incident=incident, body=f"note {i}", by=by)
        post_status_update(incident=incident, state="investigating", body=f"update {i}", by=by)


def _count_queries(django_assert_max_num_queries, client, path, n_expected):
    with django_assert_max_num_queries(12) as ctx:
        response = client.get(path, {"page_size": 500})
    assert response.status_code == 200
    assert response.data["count"] == n_expected
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/services/"])
def test_top_level_lists_run_the_same_number_of_queries_for_3_or_30_rows(
    api, alice, payments, django_assert_max_num_queries, path
):
    client = api.as_user(alice)
    service = ServiceFactory(team=payments)
    _make_many(3, payments, alice, service)
    for _ in range(2):
        ServiceFactory(team=payments)
    expected_small = 3
    few = _count_queries(django_assert_max_num_queries, client, path, expected_small)
    _make_many(27, payments, alice, service)
    for _ in range(27):
        ServiceFactory(team=payments)
    many = _count_queries(django_assert_max_num_queries, client, path, 30)
    assert many == few


@pytest.mark.parametrize("tail", ["notes/", "roles/", "updates/", "timeline/"])
def test_incident_sub_lists_run_the_same_number_of_queries_for_3_or_30_rows(
    api, alice, bob, payments, django_assert_max_num_queries, tail
):
    client = api.as_user(alice)
    incident = make_incident(team=payments, by=alice)

    def grow(n, offset):
        for i in range(offset, offset + n):
            add_note(incident=incident, body=f"note {i}", by=alice)
            post_status_update(incident=incident, state="investigating", body=f"update {i}", by=bob)
            assign_role(incident=incident, role="sme", user=_member(payments, i), by=alice)

    grow(3, 0)
    with django_assert_max_num_queries(15) as few:
        assert client.get(url(incident, tail), {"page_size": 500}).status_code == 200
    grow(27, 3)
    with django_assert_max_num_queries(15) as many:
        response = client.get(url(incident, tail), {"page_size": 500})
    assert response.status_code == 200
    assert response.data["count"] >= 30
    assert len(many.captured_queries) == len(few.captured_queries)


def _member(team, i):
    user = UserFactory(username=f"expert{i}")
    MembershipFactory(team=team, user=user)
    return user


# --- Services ----------------------------------------------------------------------

def test_lead_adds_a_service_to_their_team(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/services/", {
        "slug": "ledger", "name": "Ledger", "team": "payments", "description": "Double-entry book",
        "runbook_url": "https://runbooks.example.com/ledger", "runbook": "# Ledger\n\nRestart it.",
    }, format="json")
    assert response.status_code == 201, response.data
    assert response.data["team"] == "payments"
    service = Service.objects.get(slug="ledger")
    assert service.history.latest().history_user == alice


def test_services_are_listed_and_filtered_by_team(api, sam, checkout, search_team):
    ServiceFactory(slug="indexer", team=search_team)
    client = api.as_user(sam)
    assert [s["slug"] for s in client.get("/api/v1/services/").data["results"]] == ["checkout", "indexer"]
    assert [s["slug"] for s in client.get("/api/v1/services/", {"team": "search"}).data["results"]] == ["indexer"]


def test_lead_edits_a_service_and_member_reads_it(api, alice, bob, checkout):
    response = api.as_user(alice).patch("/api/v1/services/checkout/", {"runbook_url": "https://rb.example.com/c"},
                                        format="json")
    assert response.status_code == 200, response.data
    read = api.as_user(bob).get("/api/v1/services/checkout/").data
    assert read["runbook_url"] == "https://rb.example.com/c"
    assert read["name"] == "Checkout API"


def test_moving_a_service_needs_the_right_to_manage_both_teams(api, alice, sam, checkout, search_team):
    refused = api.as_user(alice).patch("/api/v1/services/checkout/", {"team": "search"}, format="json")
    assert refused.status_code == 400  # alice cannot even see the search team
    moved = api.as_user(sam).patch("/api/v1/services/checkout/", {"team": "search"}, format="json")
    assert moved.status_code == 200
    checkout.refresh_from_db()
    assert checkout.team == search_team


def test_a_lead_cannot_move_a_service_to_a_team_where_they_are_only_a_member(api, alice, checkout, search_team):
    MembershipFactory(team=search_team, user=alice)
    response = api.as_user(alice).patch("/api/v1/services/checkout/", {"team": "search"}, format="json")
    assert response.status_code == 403
    assert "search" in response.data["detail"]
    checkout.refresh_from_db()
    assert checkout.team.slug == "payments"
