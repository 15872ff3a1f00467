""""My pages": what paged me, newest first, acknowledged or not, with an Acknowledge button while
its incident is still triggered."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.services import acknowledge_incident
from paging.models import Notification
from paging.services.pages import page
from tests.factories import make_incident
from tests.paging.cockpit import *  # noqa: F403 - the cockpit's fixtures

pytestmark = pytest.mark.django_db


def rows(html: str) -> list[str]:
    return [chunk.split('"', 1)[0] for chunk in html.split('<tr id="page-')[1:]]


def test_my_pages_lists_what_paged_me_newest_first_and_whether_it_is_acknowledged(
        client, alice, bob, payments, incident, deliver_queued):
    older = page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)[0]
    second = make_incident(team=payments, by=alice, title="Refunds are stuck", sev="SEV1")
    newer = page(incident=second, targets=[{"type": "user", "id": "bob"}], by=alice, message="refunds")[0]
    page(incident=second, targets=[{"type": "user", "id": "alice"}], by=alice)  # not mine
    acknowledge_incident(incident=incident, by=alice)
    deliver_queued()
    client.force_login(bob)
    response = client.get("/paging/mine/")
    assert response.status_code == 200
    html = response.content.decode()
    assert rows(html) == [str(newer.pk), str(older.pk)], "mine only, newest first"
    newer_row = html[html.index(f'id="page-{newer.pk}"'):html.index(f'id="page-{older.pk}"')]
    older_row = html[html.index(f'id="page-{older.pk}"'):]
    assert second.number in newer_row and "Refunds are stuck" in newer_row and "SEV1" in newer_row
    assert "not acknowledged" in newer_row and "E-mail" in newer_row and "Sent" in newer_row
    assert f'action="/incidents/{second.number}/transition/acknowledge/"' in newer_row
    assert "Acknowledged" in older_row and "acknowledged " in older_row
    assert "/transition/acknowledge/" not in older_row, "no button once acknowledged"


def test_acknowledging_from_my_pages_comes_back_to_it(client, alice, bob, incident):
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    client.force_login(bob)
    response = client.post(f"/incidents/{incident.number}/transition/acknowledge/", {"next": "/paging/mine/"})
    assert response.status_code == 302 and response["Location"] == "/paging/mine/"
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.history.first().history_user == bob
    html = client.get("/paging/mine/").content.decode()
    assert f"{incident.number} is now acknowledged" in html


def test_a_responder_from_another_team_sees_and_acknowledges_their_page(client, alice, incident, ivan):
    page(incident=incident, targets=[{"type": "user", "id": "ivan"}], by=alice)
    client.force_login(ivan)
    html = client.get("/paging/mine/").content.decode()
    assert incident.number in html and "Acknowledge" in html
    client.post(f"/incidents/{incident.number}/transition/acknowledge/", {"next": "/paging/mine/"})
    incident.refresh_from_db()
    assert incident.status == "acknowledged"


def test_stakeholder_notices_are_not_pages(client, bob, incident):
    Notification.objects.create(kind="stakeholder", user=bob, channel="email", address=bob.email, incident=incident,
                                subject="Declared", body="FYI", due_at=incident.created_at,
                                created_at=incident.created_at)
    client.force_login(bob)
    html = client.get("/paging/mine/").content.decode()
    assert rows(html) == [] and "Nothing has paged you yet." in html


def test_the_nav_links_to_my_pages(client, bob):
    client.force_login(bob)
    assert '<a href="/paging/mine/">My pages</a>' in client.get("/").content.decode()


def test_my_pages_needs_a_login(client):
    response = client.get("/paging/mine/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_my_pages_is_paginated(client, alice, bob, incident, monkeypatch):
    import paging.views.mine

    monkeypatch.setattr(paging.views.mine, "PAGE_SIZE", 2)
    for _ in range(3):
        page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    client.force_login(bob)
    first = client.get("/paging/mine/").content.decode()
    assert len(rows(first)) == 2 and "Page 1 of 2" in first and 'href="?page=2"' in first
    second = client.get("/paging/mine/?page=2").content.decode()
    assert len(rows(second)) == 1
    assert client.get("/paging/mine/?page=bogus").status_code == 200


def _paged(incident, alice, n):
    for i in range(n):
        other = make_incident(team=incident.team, by=alice, title=f"Incident {i}")
        page(incident=other, targets=[{"type": "user", "id": "bob"}], by=alice)


def test_my_pages_costs_the_same_queries_with_few_or_many_pages(
        client, alice, bob, incident, django_assert_max_num_queries):
    _paged(incident, alice, 2)
    client.force_login(bob)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/paging/mine/").status_code == 200
    _paged(incident, alice, 12)
    with django_assert_max_num_queries(len(few)):
        html = client.get("/paging/mine/").content.decode()
    assert len(rows(html)) == 14
