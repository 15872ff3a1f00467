"""The checklist on the incident page (no-JS forms, the htmx poll) and through the API."""

import pytest

from incidents.models import ChecklistItem
from incidents.services import assign_role, resolve_incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(alice, checkout):
    return make_incident(team=checkout.team, by=alice, services=[checkout])


def _item(incident, text, phase="during"):
    return ChecklistItem.objects.get(incident=incident, phase=phase, text=text)


# --- The page -----------------------------------------------------------------------------------

def test_the_incident_page_shows_the_checklist_with_its_progress(client, bob, incident):
    client.force_login(bob)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert 'id="checklist"' in html and "Checklist" in html
    assert "1 of 6 during the incident" in html
    assert "War room open" in html and "done by Vigil" in html
    assert "Runbook updated" not in html  # the after items wait for the resolution


def test_ticking_from_the_page_without_javascript(client, bob, incident):
    client.force_login(bob)
    item = _item(incident, "War room open")
    response = client.post(f"/incidents/{incident.number}/checklist/{item.pk}/", {"done": "1"})
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.number}/"
    html = client.get(response["Location"]).content.decode()
    assert "Done: War room open." in html and "2 of 6 during the incident" in html
    item.refresh_from_db()
    assert item.done_by == bob and item.done_at is not None
    client.post(f"/incidents/{incident.number}/checklist/{item.pk}/", {"done": "0"})
    item.refresh_from_db()
    assert item.done_at is None


def test_ticking_with_htmx_gets_the_body_back(client, bob, incident):
    client.force_login(bob)
    item = _item(incident, "Timeline kept")
    response = client.post(f"/incidents/{incident.number}/checklist/{item.pk}/", {"done": "1"},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="incident-body"' in html and "2 of 6 during the incident" in html


def test_the_resolved_incident_shows_the_after_items(client, bob, alice, incident):
    resolve_incident(incident=incident, by=alice)
    client.force_login(bob)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert "1 of 6 after the incident" in html and "Runbook updated" in html


def test_the_live_poll_refreshes_the_checklist(client, bob, alice, incident):
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    client.force_login(bob)
    html = client.get(f"/incidents/{incident.number}/live/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="checklist" hx-swap-oob="true"' in html and "2 of 6 during the incident" in html


def test_an_outsider_cannot_tick_from_the_page(client, charlie, incident):
    client.force_login(charlie)
    item = _item(incident, "War room open")
    assert client.post(f"/incidents/{incident.number}/checklist/{item.pk}/", {"done": "1"}).status_code == 404
    assert not _item(incident, "War room open").done


def test_an_item_of_another_incident_is_a_404(client, bob, alice, incident, payments):
    other = make_incident(team=payments, by=alice, title="Another")
    client.force_login(bob)
    item = _item(other, "War room open")
    assert client.post(f"/incidents/{incident.number}/checklist/{item.pk}/", {"done": "1"}).status_code == 404


def test_the_incident_page_runs_a_constant_number_of_queries(client, bob, alice, incident,
                                                              django_assert_max_num_queries):
    client.force_login(bob)
    with django_assert_max_num_queries(200) as ctx:
        client.get(f"/incidents/{incident.number}/")
    few = len(ctx.captured_queries)
    for n, item in enumerate(ChecklistItem.objects.filter(incident=incident, phase="during")):
        client.force_login(alice if n % 2 else bob)
        client.post(f"/incidents/{incident.number}/checklist/{item.pk}/", {"done": "1"})
    client.force_login(bob)
    with django_assert_max_num_queries(200) as ctx:
        html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert "6 of 6 during the incident" in html
    assert len(ctx.captured_queries) == few


# --- The API ------------------------------------------------------------------------------------

def test_api_lists_the_checklist(api, bob, incident):
    response = api.as_user(bob).get(f"/api/v1/incidents/{incident.number}/checklist/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["text"] for r in rows][:2] == ["Severity assigned", "Commander identified"]
    assert [r["phase"] for r in rows] == ["during"] * 6 + ["after"] * 6
    first = rows[0]
    assert first["done"] is True and first["done_by"] is None and first["auto"] == "severity"
    assert set(first) == {"id", "phase", "position", "text", "auto", "done", "done_at", "done_by"}


def test_api_ticks_and_unticks_an_item_and_the_timeline_shows_it(api, bob, incident):
    client = api.as_user(bob)
    item = _item(incident, "War room open")
    url = f"/api/v1/incidents/{incident.number}/checklist/{item.pk}/"
    response = client.post(url, {"done": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["done"] is True and response.json()["done_by"] == "bob"
    events = client.get(f"/api/v1/incidents/{incident.number}/timeline/").json()["results"]
    ticks = [e for e in events if e["kind"] == "checklist"]
    assert ticks[-1]["actor"] == "bob" and ticks[-1]["summary"] == "Done: War room open"
    response = client.post(url, {"done": False}, format="json")
    assert response.json()["done"] is False and response.json()["done_at"] is None


def test_api_refuses_a_tick_without_done(api, bob, incident):
    item = _item(incident, "War room open")
    response = api.as_user(bob).post(f"/api/v1/incidents/{incident.number}/checklist/{item.pk}/", {},
                                     format="json")
    assert response.status_code == 400 and "done" in str(response.json())


def test_api_another_teams_incident_is_a_404(api, charlie, incident):
    client = api.as_user(charlie)
    item = _item(incident, "War room open")
    assert client.get(f"/api/v1/incidents/{incident.number}/checklist/").status_code == 404
    assert client.post(f"/api/v1/incidents/{incident.number}/checklist/{item.pk}/", {"done": True},
                       format="json").status_code == 404
    assert not _item(incident, "War room open").done


def test_api_unknown_item_is_a_404(api, bob, incident):
    response = api.as_user(bob).post(f"/api/v1/incidents/{incident.number}/checklist/999999/", {"done": True},
                                     format="json")
    assert response.status_code == 404


def test_api_list_runs_a_constant_number_of_queries(api, bob, alice, incident, django_assert_max_num_queries):
    url = f"/api/v1/incidents/{incident.number}/checklist/"
    api.as_user(alice)  # their tokens exist before counting
    client = api.as_user(bob)
    with django_assert_max_num_queries(50) as ctx:
        client.get(url)
    few = len(ctx.captured_queries)
    for n, item in enumerate(ChecklistItem.objects.filter(incident=incident, done_at__isnull=True)):
        api.as_user(alice if n % 2 else bob).post(f"{url}{item.pk}/", {"done": True}, format="json")
    client = api.as_user(bob)
    with django_assert_max_num_queries(50) as ctx:
        rows = client.get(url).json()["results"]
    assert all(r["done"] for r in rows) and {r["done_by"] for r in rows} == {None, "alice", "bob"}
    assert len(ctx.captured_queries) == few
