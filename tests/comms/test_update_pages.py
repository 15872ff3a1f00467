"""The incident page's update form (fill from a template, promise the next update) and the resolve step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import StatusUpdate
from incidents.services import post_status_update, transition_incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def incident(payments, alice, checkout):
    incident = make_incident(team=payments, by=alice, sev="SEV2", services=[checkout], title="Checkout errors")
    return transition_incident(incident=incident, transition="acknowledge", by=alice)


def test_fill_from_template_drafts_the_text_without_posting(alice_client, incident):
    page = alice_client.post(f"/incidents/{incident.number}/updates/",
                             {"state": "identified", "template": "status_identified", "body": "", "fill": "1"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Checkout errors" in text  # the template's {{ title }}, rendered into the text box
    assert 'name="public" id="id_update_public" checked' in text or 'id="id_update_public" checked' in text
    assert not StatusUpdate.objects.exists()


def test_posting_with_a_promise_shows_when_the_next_update_is_due(alice_client, incident):
    answer = alice_client.post(f"/incidents/{incident.number}/updates/",
                               {"state": "investigating", "body": "Looking into it.", "next_update_in": "30"})
    assert answer.status_code == 302
    update = StatusUpdate.objects.get()
    assert timedelta(minutes=29) < update.next_update_at - timezone.now() <= timedelta(minutes=30)
    page = alice_client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Next update promised for" in page and "overdue" not in page.split('id="next-update"')[1][:200]


def test_an_overdue_promise_is_flagged_on_the_incident_page(alice_client, incident, alice):
    earlier = timezone.now() - timedelta(hours=1)
    post_status_update(incident=incident, state="investigating", body="Looking.", by=alice,
                       next_update_at=earlier + timedelta(minutes=30), now=earlier)
    page = alice_client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Next update overdue" in page


def test_the_resolve_page_asks_for_a_summary_and_offers_the_update_prefilled(alice_client, incident, alice):
    post_status_update(incident=incident, state="investigating", body="Payments fail.", public=True, by=alice)
    page = alice_client.get(f"/incidents/{incident.number}/resolve/").content.decode()
    assert "Resolution summary" in page
    assert 'id="id_resolve_update_public" checked' in page  # it went public before: the update is public too
    drafted = page.split('id="id_resolve_update_body">')[1].split("</textarea>")[0]
    assert drafted.strip() and "{{" not in drafted  # drafted from "status page: resolved", rendered

    missing = alice_client.post(f"/incidents/{incident.number}/resolve/", {"summary": "", "post_update": "on"})
    assert missing.status_code == 200
    assert "This field is required" in missing.content.decode()
    assert "Write the update" in missing.content.decode()
    incident.refresh_from_db()
    assert incident.status == "acknowledged"

    done = alice_client.post(f"/incidents/{incident.number}/resolve/", {
        "summary": "Rolled back deploy 4512.", "root_cause": "A bad config flag.", "post_update": "on",
        "update_body": "Payments work again.", "update_public": "on"})
    assert done.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.resolution_summary, incident.root_cause) == \
        ("resolved", "Rolled back deploy 4512.", "A bad config flag.")
    latest = StatusUpdate.objects.filter(incident=incident).latest("created_at", "id")
    assert (latest.state, latest.public, latest.body) == ("resolved", True, "Payments work again.")
    page = alice_client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Rolled back deploy 4512." in page and "A bad config flag." in page


def test_resolving_without_the_update_posts_none(alice_client, incident):
    done = alice_client.post(f"/incidents/{incident.number}/resolve/", {"summary": "Restarted the pods."})
    assert done.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved" and not StatusUpdate.objects.exists()


def test_another_teams_incident_has_no_resolve_page(client, charlie, incident):
    client.force_login(charlie)
    assert client.get(f"/incidents/{incident.number}/resolve/").status_code == 404
    assert client.post(f"/incidents/{incident.number}/resolve/", {"summary": "x"}).status_code == 404
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
