"""Action items: from the postmortem or straight from the incident page during the response; open → in
progress → done, or won't do with a reason; listed per postmortem, per person and per team, overdue marked."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.queries import timeline
from postmortems.models import ActionItem
from postmortems.services import IllegalStatus, create_action_item, set_action_item_status

from .conftest import declare, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(resolved_sev1, alice, bob):
    return create_action_item(incident=resolved_sev1, by=alice, title="Alert on certificate expiry", owner=bob,
                              due_at=timezone.now() + timedelta(days=14), priority="P1",
                              success_criteria="An alert fires 14 days before any certificate expires.")


def test_an_item_goes_open_in_progress_done_and_back(item, bob):
    assert item.status == "open"
    item = set_action_item_status(item=item, status="in_progress", by=bob)
    item = set_action_item_status(item=item, status="done", by=bob)
    assert item.status == "done" and item.closed_at is not None
    item = set_action_item_status(item=item, status="open", by=bob)
    assert item.status == "open" and item.closed_at is None


def test_wont_do_needs_a_reason_which_stays_with_the_item(item, bob):
    with pytest.raises(ValidationError, match="Say why"):
        set_action_item_status(item=item, status="wont_do", by=bob)
    item = set_action_item_status(item=item, status="wont_do", by=bob, reason="The vendor rotates them now.")
    assert (item.status, item.wont_do_reason) == ("wont_do", "The vendor rotates them now.")


def test_a_done_item_is_reopened_before_it_is_worked_on_again(api, item, bob):
    set_action_item_status(item=item, status="done", by=bob)
    with pytest.raises(IllegalStatus, match="possible now: open"):
        set_action_item_status(item=item, status="in_progress", by=bob)
    response = api.as_user(bob).patch(f"/api/v1/action-items/{item.pk}/", {"status": "in_progress"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition" and response.json()["allowed"] == ["open"]


def test_an_item_straight_from_the_incident_page_during_the_response(client, payments, alice, bob):
    incident = drive(declare(payments, alice, "SEV2"), by=alice, resolve=False)
    client.force_login(alice)
    page = client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Add an action item" in page and "A SEV2 owes a postmortem" in page
    response = client.post(f"/incidents/{incident.number}/action-items/", {
        "title": "Add a circuit breaker", "owner": bob.pk, "due_at": "2026-04-01T12:00", "priority": "P0",
        "success_criteria": "Timeouts stop cascading."})
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.incident, item.owner, item.priority, item.created_by) == (incident, bob, "P0", alice)
    assert "Add a circuit breaker" in client.get(f"/incidents/{incident.number}/").content.decode()


def test_a_refused_item_shows_the_incident_page_with_the_errors(client, resolved_sev1, alice, charlie):
    client.force_login(alice)
    response = client.post(f"/incidents/{resolved_sev1.number}/action-items/", {"title": "", "priority": "P9"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_an_item_from_the_postmortem_page_is_listed_there(client, postmortem, alice, bob):
    client.force_login(alice)
    response = client.post(f"/postmortems/{postmortem.pk}/action-items/", {
        "title": "Runbook: rotating the acquirer certificate", "owner": bob.pk, "due_at": "", "priority": "P2"})
    assert response.status_code == 302
    page = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    assert "Runbook: rotating the acquirer certificate" in page and "1 open of 1" in page


def test_the_status_form_on_the_item_page(client, item, bob):
    client.force_login(bob)
    refused = client.post(f"/postmortems/action-items/{item.pk}/status/", {"status": "wont_do", "reason": ""})
    assert refused.status_code == 400 and "Say why it won" in refused.content.decode()
    done = client.post(f"/postmortems/action-items/{item.pk}/status/", {"status": "done"}, follow=True)
    assert "Action item is now done." in done.content.decode()


def test_my_action_items_and_my_teams_mark_the_overdue_ones(client, resolved_sev1, alice, bob):
    late = create_action_item(incident=resolved_sev1, by=alice, title="Late one", owner=bob,
                              due_at=timezone.now() - timedelta(days=1))
    create_action_item(incident=resolved_sev1, by=alice, title="Alice's own", owner=alice)
    client.force_login(bob)
    mine = client.get("/postmortems/action-items/mine/").content.decode()
    assert "Late one" in mine and "Alice&#x27;s own" not in mine
    assert f'id="action-item-{late.pk}" class="overdue-row"' in mine and "overdue:" in mine
    team = client.get("/postmortems/action-items/team/payments/").content.decode()
    assert "Late one" in team and "Alice&#x27;s own" in team


def test_done_items_are_left_out_unless_asked_for(client, item, bob):
    set_action_item_status(item=item, status="done", by=bob)
    client.force_login(bob)
    assert "Alert on certificate expiry" not in client.get("/postmortems/action-items/mine/").content.decode()
    assert "Alert on certificate expiry" in client.get("/postmortems/action-items/mine/?show=all").content.decode()


def test_creations_and_status_changes_are_on_the_incidents_timeline(resolved_sev1, item, bob):
    set_action_item_status(item=item, status="wont_do", by=bob, reason="Vendor handles it")
    events = [e.summary for e in timeline(resolved_sev1) if e.kind == "action_item"]
    assert events == ["Action item: Alert on certificate expiry (P1)",
                      "Action item won't do: Alert on certificate expiry — Vendor handles it"]


def test_the_owner_is_someone_who_works_the_incident(resolved_sev1, alice, charlie):
    with pytest.raises(ValidationError, match="neither a member of team payments nor a responder"):
        create_action_item(incident=resolved_sev1, by=alice, title="Ask search", owner=charlie)
