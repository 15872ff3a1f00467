"""Another team's things do not exist for you: 404 everywhere, never listed, never changed.

charlie is in the search team only; payments' incidents and services are foreign to him.
"""

import pytest

from incidents.models import Incident, Note, RoleAssignment, StatusUpdate
from incidents.services import assign_role
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

TRANSITIONS = ["acknowledge", "investigate", "identify", "mitigate", "resolve", "close", "reopen"]


@pytest.fixture
def foreign(payments, alice, bob):
    incident = make_incident(team=payments, by=alice, title="Payments secret outage")
    assignment = assign_role(incident=incident, role="commander", user=bob, by=alice)
    return incident, assignment


def endpoints(incident, assignment):
    base = f"/api/v1/incidents/{incident.number}/"
    yield "get", base, None
    yield "patch", base, {"title": "pwned"}
    for name in TRANSITIONS:
        yield "post", f"{base}{name}/", {"note": "x"}
    yield "get", f"{base}timeline/", None
    yield "get", f"{base}notes/", None
    yield "post", f"{base}notes/", {"body": "hello"}
    yield "get", f"{base}roles/", None
    yield "post", f"{base}roles/", {"role": "scribe", "user": "charlie"}
    yield "delete", f"{base}roles/{assignment.pk}/", None
    yield "get", f"{base}updates/", None
    yield "post", f"{base}updates/", {"state": "investigating", "body": "hi", "public": True}


ENDPOINT_IDS = [
    "detail", "patch", *TRANSITIONS, "timeline", "notes-get", "notes-post", "roles-get", "roles-post",
    "roles-delete", "updates-get", "updates-post",
]


@pytest.mark.parametrize("index", range(len(ENDPOINT_IDS)), ids=ENDPOINT_IDS)
def test_outsider_gets_404_for_another_teams_incident_on_every_endpoint(api, charlie, foreign, index):
    incident, assignment = foreign
    method, path, body = list(endpoints(incident, assignment))[index]
    response = getattr(api.as_user(charlie), method)(path, body, format="json")
    assert response.status_code == 404, (method, path, response.data)
    assert response.data["code"] == "not_found"
    assert "secret" not in str(response.data)


def test_outsiders_attempts_change_nothing(api, charlie, foreign):
    incident, assignment = foreign
    client = api.as_user(charlie)
    for method, path, body in endpoints(incident, assignment):
        getattr(client, method)(path, body, format="json")
    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert incident.title == "Payments secret outage"
    assert not Note.objects.filter(incident=incident).exists()
    assert not StatusUpdate.objects.filter(incident=incident).exists()
    assert list(RoleAssignment.objects.filter(incident=incident)) == [assignment]


def test_another_teams_incidents_never_appear_in_the_list(api, charlie, search_team, foreign):
    own = make_incident(team=search_team, by=charlie, title="Search index lag")
    client = api.as_user(charlie)
    listed = client.get("/api/v1/incidents/", {"page_size": 500}).data
    assert [row["number"] for row in listed["results"]] == [own.number]
    assert client.get("/api/v1/incidents/", {"q": "secret"}).data["count"] == 0


def test_filtering_by_a_foreign_team_or_service_is_refused_like_an_unknown_one(api, charlie, foreign, checkout):
    client = api.as_user(charlie)
    foreign_team = client.get("/api/v1/incidents/", {"team": "payments"})
    unknown_team = client.get("/api/v1/incidents/", {"team": "no-such-team"})
    assert foreign_team.status_code == unknown_team.status_code == 400
    assert foreign_team.data["team"] == [unknown_team.data["team"][0].replace("no-such-team", "payments")]
    foreign_service = client.get("/api/v1/incidents/", {"service": "checkout"})
    assert foreign_service.status_code == 400


def test_declaring_for_a_team_you_are_not_in_is_a_field_error_that_reveals_nothing(api, charlie, payments):
    client = api.as_user(charlie)
    foreign = client.post("/api/v1/incidents/", {"title": "x", "severity": "SEV1", "team": "payments"}, format="json")
    unknown = client.post("/api/v1/incidents/", {"title": "x", "severity": "SEV1", "team": "nope"}, format="json")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.data["team"] == [unknown.data["team"][0].replace("nope", "payments")]
    assert not Incident.objects.exists()


def test_an_incident_cannot_name_another_teams_service(api, charlie, search_team, checkout):
    response = api.as_user(charlie).post("/api/v1/incidents/", {
        "title": "x", "severity": "SEV2", "team": "search", "services": ["checkout"],
    }, format="json")
    assert response.status_code == 400
    assert "checkout" in response.data["services"][0]


def test_a_role_cannot_go_to_someone_who_shares_no_team_with_the_caller_or_incident(api, alice, charlie, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(
        f"/api/v1/incidents/{incident.number}/roles/", {"role": "sme", "user": "charlie"}, format="json"
    )
    assert response.status_code == 400
    assert "charlie" in response.data["user"][0]


def test_a_role_on_another_incident_cannot_be_deleted_through_this_one(api, alice, bob, payments):
    first = make_incident(team=payments, by=alice)
    second = make_incident(team=payments, by=alice)
    assignment = assign_role(incident=first, role="commander", user=bob, by=alice)
    response = api.as_user(alice).delete(f"/api/v1/incidents/{second.number}/roles/{assignment.pk}/")
    assert response.status_code == 404
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


# --- Services ----------------------------------------------------------------------

def test_outsider_gets_404_for_another_teams_service(api, charlie, checkout):
    client = api.as_user(charlie)
    assert client.get("/api/v1/services/checkout/").status_code == 404
    assert client.patch("/api/v1/services/checkout/", {"name": "x"}, format="json").status_code == 404
    assert client.get("/api/v1/services/").data["count"] == 0


def test_member_may_read_but_not_change_a_service(api, bob, checkout):
    client = api.as_user(bob)
    assert client.get("/api/v1/services/checkout/").status_code == 200
    response = client.patch("/api/v1/services/checkout/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    checkout.refresh_from_db()
    assert checkout.name == "Checkout API"


def test_member_cannot_add_a_service_to_their_team(api, bob, payments):
    response = api.as_user(bob).post("/api/v1/services/", {"slug": "ledger", "name": "Ledger", "team": "payments"},
                                     format="json")
    assert response.status_code == 403


def test_nobody_adds_a_service_to_a_team_they_cannot_see(api, charlie, payments):
    response = api.as_user(charlie).post(
        "/api/v1/services/", {"slug": "ledger", "name": "Ledger", "team": "payments"}, format="json"
    )
    assert response.status_code == 400
    assert "team" in response.data


def test_staff_see_every_teams_incidents(api, sam, foreign):
    incident, _ = foreign
    client = api.as_user(sam)
    assert client.get(f"/api/v1/incidents/{incident.number}/").status_code == 200
    assert client.get("/api/v1/incidents/").data["count"] == 1
