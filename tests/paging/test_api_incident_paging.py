"""The incident paging API (../API.md): the pages sent about an incident, paging people into it,
and its responders; shapes as the contract names them, errors as config.api shapes them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncall.models import EscalationPolicy
from paging.models import Notification
from paging.services.pages import page
from tests.factories import UserFactory
from tests.paging.cockpit import *  # noqa: F403 - the cockpit's fixtures

pytestmark = pytest.mark.django_db


def url(incident, what):
    return f"/api/v1/incidents/{incident.number}/{what}/"


def test_paging_a_person_answers_202_with_the_responders_and_the_messages_queued(api, alice, incident, ivan):
    response = api.as_user(alice).post(url(incident, "page"), {"targets": [{"type": "user", "id": "ivan"}],
                                                                 "message": "Need a DBA"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["notifications"] == 1
    [responder] = body["responders"]
    assert set(responder) == {"user", "added_by", "added_at", "via"}
    assert (responder["user"], responder["added_by"], responder["via"]) == ("ivan", "alice", "page")
    assert responder["added_at"].endswith(("Z", "+00:00"))


def test_each_kind_of_target(api, alice, bob, incident, payments, payments_primary, ivan, platform):
    policy = EscalationPolicy.objects.create(team=payments, name="Leads", steps=[
        {"delay_minutes": 5, "targets": [{"type": "team_leads", "id": payments.pk}]}])
    client = api.as_user(bob)
    cases = [
        ({"type": "team", "id": "payments"}, {"alice"}),            # payments' primary on-call now
        ({"type": "team_members", "id": "platform"}, {"ivan"}),      # everyone in platform
        ({"type": "rotation", "id": payments_primary.pk}, {"alice"}),
        ({"type": "rotation", "id": str(payments_primary.pk)}, {"alice"}),
        ({"type": "policy", "id": policy.pk}, {"alice"}),            # its first step: payments' leads
    ]
    for target, people in cases:
        response = client.post(url(incident, "page"), {"targets": [target]}, format="json")
        assert response.status_code == 202, (target, response.content)
        assert {r["user"] for r in response.json()["responders"]} == people, target


def test_the_people_paged_become_responders_who_may_work_the_incident(api, alice, incident, ivan):
    api.as_user(alice).post(url(incident, "page"), {"targets": [{"type": "user", "id": "ivan"}]}, format="json")
    client = api.as_user(ivan)
    assert client.get(f"/api/v1/incidents/{incident.number}/").status_code == 200
    assert client.post(url(incident, "notes"), {"body": "On it"}, format="json").status_code == 201
    assert client.post(url(incident, "acknowledge"), {}, format="json").status_code == 200
    responders = client.get(url(incident, "responders")).json()
    assert responders["count"] == 1
    assert responders["results"] == [{"user": "ivan", "added_by": "alice", "added_at": responders["results"][0]["added_at"],
                                      "via": "page"}]


def test_responders_say_how_they_came(api, alice, bob, incident, ivan):
    client = api.as_user(alice)
    client.post(url(incident, "roles"), {"role": "commander", "user": "bob"}, format="json")
    client.post(url(incident, "page"), {"targets": [{"type": "user", "id": "ivan"}]}, format="json")
    rows = client.get(url(incident, "responders")).json()["results"]
    assert [(r["user"], r["via"], r["added_by"]) for r in rows] == [("bob", "role", "alice"), ("ivan", "page", "alice")]


def test_notifications_list_the_pages_sent_in_the_contracts_shape(api, alice, bob, incident, deliver_queued):
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    deliver_queued()
    response = api.as_user(alice).get(url(incident, "notifications"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 1
    [row] = body["results"]
    assert {"user", "channel", "step", "loop", "status", "sent_at"} <= set(row)
    assert set(row) == {"id", "kind", "user", "channel", "step", "loop", "status", "attempts", "last_error",
                        "created_at", "sent_at"}
    assert (row["user"], row["kind"], row["channel"], row["status"], row["step"], row["loop"]) == \
        ("bob", "page", "email", "sent", None, None)
    assert row["attempts"] == 1 and row["last_error"] == "" and row["sent_at"] is not None


def test_notifications_kind_filter(api, alice, bob, incident):
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    client = api.as_user(alice)
    assert client.get(url(incident, "notifications") + "?kind=page").json()["count"] == 1
    assert client.get(url(incident, "notifications") + "?kind=stakeholder").json()["count"] == 0
    assert client.get(url(incident, "notifications") + "?kind=page,stakeholder").json()["count"] == 1
    for bad in ("bogus", "page,"):  # the schema's list of kinds: an empty item is none
        response = client.get(url(incident, "notifications") + f"?kind={bad}")
        assert response.status_code == 400 and response.json()["code"] == "invalid" and "kind" in response.json()


@pytest.mark.parametrize("body, field", [
    ({}, "targets"),
    ({"targets": []}, "targets"),
    ({"targets": "ivan"}, "targets"),
    ({"targets": [{"type": "pager", "id": "ivan"}]}, "targets"),
    ({"targets": [{"type": "user"}]}, "targets"),
    ({"targets": [{"type": "user", "id": True}]}, "targets"),
    ({"targets": [{"type": "user", "id": ""}]}, "targets"),
    ({"targets": [{"type": "user", "id": "nobody"}]}, "targets"),
    ({"targets": [{"type": "team", "id": "platform"}]}, "targets"),          # nobody on call there
    ({"targets": [{"type": "rotation", "id": 999999}]}, "targets"),
    ({"targets": [{"type": "rotation", "id": "\u00b2"}]}, "targets"),    # "²".isdigit(), but no number: not a 500
    ({"targets": [{"type": "policy", "id": "leads"}]}, "targets"),
    ({"targets": [{"type": "user", "id": "ivan"}] * 21}, "targets"),
    ({"targets": [{"type": "user", "id": "ivan"}], "message": 5}, "message"),
    ({"targets": [{"type": "user", "id": "ivan"}], "message": "x" * 1001}, "message"),
])
def test_bad_pages_are_400s_that_say_what_to_fix(api, alice, incident, ivan, platform, body, field):
    response = api.as_user(alice).post(url(incident, "page"), body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid" and data["detail"].startswith("Invalid input") and field in data
    assert not Notification.objects.filter(incident=incident).exists()


def test_nobody_reached_says_so(api, alice, incident, platform):
    response = api.as_user(alice).post(url(incident, "page"), {"targets": [{"type": "team", "id": "platform"}]},
                                       format="json")
    assert "Nobody is reached" in response.json()["detail"]


@pytest.mark.parametrize("what, method", [("notifications", "get"), ("responders", "get"), ("page", "post")])
def test_another_teams_incident_is_a_404(api, charlie, incident, what, method):
    response = getattr(api.as_user(charlie), method)(url(incident, what), {"targets": [{"type": "user", "id": "charlie"}]}
                                                     if method == "post" else None, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_an_unknown_incident_is_a_404(api, alice, db):
    assert api.as_user(alice).get("/api/v1/incidents/INC-2026-9999/notifications/").status_code == 404


def test_anonymous_is_a_401(api, incident):
    assert api.get(url(incident, "responders")).status_code == 401


def _more(incident, alice, n):
    for i in range(n):
        person = UserFactory(username=f"paged{Notification.objects.count()}-{i}")
        page(incident=incident, targets=[{"type": "user", "id": person.username}], by=alice)


@pytest.mark.parametrize("what", ["notifications", "responders"])
def test_lists_cost_the_same_queries_with_few_or_many_rows(api, alice, incident, what, django_assert_max_num_queries):
    _more(incident, alice, 2)
    client = api.as_user(alice)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(incident, what)).json()["count"] == 2
    _more(incident, alice, 15)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url(incident, what)).json()["count"] == 17


def test_a_responder_from_another_team_may_be_given_a_role(api, alice, incident, ivan):
    client = api.as_user(alice)
    assert client.post(url(incident, "roles"), {"role": "sme", "user": "ivan"}, format="json").status_code == 400
    client.post(url(incident, "page"), {"targets": [{"type": "user", "id": "ivan"}]}, format="json")
    response = client.post(url(incident, "roles"), {"role": "sme", "user": "ivan"}, format="json")
    assert response.status_code == 201, response.content
