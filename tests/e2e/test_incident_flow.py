"""A responder declares, acknowledges and resolves an incident in a real browser."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.factories import ensure_severities

# Screenshots for a human to look at; the temp directory unless VIGIL_SCREENSHOTS names another.
SCREENSHOTS = Path(os.environ.get("VIGIL_SCREENSHOTS", tempfile.gettempdir()))

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def responder(bob, checkout):
    # Transactional tests flush the migration's severities; put them back.
    ensure_severities()
    return bob


def test_member_declares_acknowledges_and_resolves_an_incident(page: Page, live_server, log_in, responder):
    log_in(page, "bob")

    page.get_by_role("link", name="Declare", exact=True).click()
    page.get_by_label("Title").fill("Card payments declined")
    page.get_by_label("Severity").select_option(label="SEV1")
    page.get_by_label("Category").select_option("outage")
    page.get_by_label("Affected services").select_option(label="Checkout API")
    page.get_by_label("Impact", exact=True).fill("Customers cannot pay by card.")
    page.get_by_role("button", name="Declare").click()

    incident = Incident.objects.get()
    expect(page).to_have_url(f"{live_server.url}/incidents/{incident.number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Card payments declined")
    expect(page.locator("#details")).to_contain_text("acknowledge within 5 min")
    expect(page.locator(".runbook")).to_contain_text("error rate")

    # htmx swaps the page body in place: a value set on window survives the transitions.
    page.evaluate("window.vigilMarker = 'same page'")
    page.locator("form.transition", has=page.locator('[data-transition="acknowledge"]')) \
        .get_by_placeholder("Note (optional)").fill("on it")
    page.locator('[data-transition="acknowledge"]').click()
    expect(page.locator(".messages")).to_contain_text("is now acknowledged")
    expect(page.locator(".badge.status-acknowledged").first).to_be_visible()

    assert page.evaluate("window.vigilMarker") == "same page"

    # Resolving asks for a summary, and offers the resolution update (untick it here).
    page.locator('[data-transition="resolve"]').click()
    page.get_by_label("Resolution summary").fill("Restarted the card gateway")
    page.get_by_label("Post the resolution update").uncheck()
    page.locator('button[data-transition="resolve"]').click()
    expect(page.locator(".messages")).to_contain_text("is resolved")

    events = page.locator(".timeline .event")
    expect(events.nth(0)).to_contain_text(f"{incident.number} declared: Card payments declined")
    expect(events.nth(1)).to_contain_text("triggered → acknowledged: on it")
    expect(page.locator(".timeline")).to_contain_text("acknowledged → resolved")
    expect(page.locator("#details")).to_contain_text("Restarted the card gateway")
    expect(page.locator('[data-transition="reopen"]')).to_be_visible()

    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.acknowledged_at is not None and incident.resolved_at is not None


def test_the_same_flow_works_without_javascript(browser, live_server, log_in, responder):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "bob")
        page.goto(f"{live_server.url}/incidents/new/")
        page.get_by_label("Title").fill("Search index stale")
        page.get_by_label("Severity").select_option(label="SEV3")
        page.get_by_role("button", name="Declare").click()
        incident = Incident.objects.get()
        expect(page).to_have_url(f"{live_server.url}/incidents/{incident.number}/")
        page.locator('[data-transition="acknowledge"]').click()
        expect(page.locator(".messages")).to_contain_text("is now acknowledged")
        page.get_by_label("Note", exact=True).fill("Reindexing from the snapshot")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator(".timeline")).to_contain_text("Reindexing from the snapshot")
        page.locator('[data-transition="resolve"]').click()
        page.get_by_label("Resolution summary").fill("Reindexed")
        page.locator('button[data-transition="resolve"]').click()
        expect(page.locator(".timeline")).to_contain_text("acknowledged → resolved")
        incident.refresh_from_db()
        assert incident.status == "resolved"
    finally:
        context.close()


def test_incident_page_screenshots_at_mobile_and_desktop_width(page: Page, live_server, log_in, responder, alice,
                                                               checkout):
    from incidents.services import add_note, assign_role, post_status_update
    from tests.factories import make_incident

    incident = make_incident(team=responder.teams.get(), by=alice, title="Checkout latency over 2 s",
                             sev="SEV2", services=[checkout],
                             impact="Slow checkout for EU customers.")
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    add_note(incident=incident, body="Looking at the database pool.", by=responder)
    post_status_update(incident=incident, state="investigating", body="We are investigating.", by=alice)

    log_in(page, "bob")
    for width, height, name in ((390, 844, "incident-mobile.png"), (1280, 900, "incident-desktop.png")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/incidents/{incident.number}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Checkout latency over 2 s")
        # Nothing may stick out sideways: a phone must not need horizontal scrolling.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"page is {overflow}px wider than the {width}px viewport"
        page.screenshot(path=SCREENSHOTS / name, full_page=True)
