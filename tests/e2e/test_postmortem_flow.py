"""A SEV1 from resolution to a published postmortem: the commander resolves it, fills the draft Vigil made,
adds an action item and submits it; a teammate approves and publishes; the postmortem is found in the library
by a word of its root cause, and offered as a similar past incident on a new incident of the same service."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from incidents.services import transition_incident
from postmortems.models import Postmortem, PostmortemStatus
from tests.factories import ensure_severities, make_incident

SCREENSHOTS = Path(os.environ.get("VIGIL_SCREENSHOTS", tempfile.gettempdir()))

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT_CAUSE_WORD = "pgbouncer"
OWNER_LABEL = "Bob Baker (bob)"


def _log_in_other(browser: Browser, live_server, username: str, path: str) -> Page:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{path}")
    return page


def test_sev1_postmortem_from_draft_to_library(page: Page, browser: Browser, live_server, log_in,
                                               alice, bob, checkout, payments):
    ensure_severities()
    incident = make_incident(team=payments, by=alice, sev="SEV1", services=[checkout],
                             title="Checkout times out for every card payment")
    transition_incident(incident=incident, transition="acknowledge", by=alice)

    # The commander resolves it; Vigil opens the postmortem the SEV1 owes.
    log_in(page, "alice", f"/incidents/{incident.number}/resolve/")
    page.get_by_label("Resolution summary").fill("Restarted the connection pooler; payments flow again.")
    page.get_by_label("Root cause", exact=True).fill("The pooler ran out of server connections.")
    page.get_by_role("button", name="Resolve").click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{incident.number}/")
    panel = page.locator("#postmortem")
    expect(panel).to_contain_text("required")
    panel.get_by_role("link", name="The postmortem").click()
    postmortem = Postmortem.objects.get(incident=incident)
    expect(page).to_have_url(f"{live_server.url}/postmortems/{postmortem.pk}/")
    # Prefilled from the incident: the root cause written on resolving is in the draft.
    expect(page.locator(".postmortem-doc")).to_contain_text("ran out of server connections")

    # The author fills the draft.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Summary", exact=True).fill("For 40 minutes no card payment went through.")
    page.get_by_label("Root cause", exact=True).fill(
        f"A {ROOT_CAUSE_WORD} pool sized for last year's traffic ran out of server connections.")
    page.get_by_label("Lessons learned", exact=True).fill("Size the pool from measured peak traffic.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Postmortem saved.")
    expect(page.locator(".postmortem-doc")).to_contain_text(f"A {ROOT_CAUSE_WORD} pool sized")

    # An action item, from the postmortem.
    items = page.locator("#action-items")
    items.get_by_text("Add an action item").click()
    items.get_by_label("Title", exact=True).fill("Alert when the pool is 80% used")
    items.get_by_label("Owner").select_option(label=OWNER_LABEL)
    items.get_by_label("Priority").select_option("P1")
    items.get_by_label("Success criteria").fill("A page fires in staging when the pool is 80% used.")
    items.get_by_role("button", name="Add action item").click()
    expect(page.locator(".messages")).to_contain_text("Action item added: Alert when the pool is 80% used.")
    expect(page.locator("#action-items")).to_contain_text("Alert when the pool is 80% used")
    expect(page.locator("#action-items")).to_contain_text("Bob Baker")

    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messages")).to_contain_text("Submitted for review")
    # The author may not approve their own postmortem.
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "vigil-postmortem-in-review-1280.png"), full_page=True)

    # A teammate approves and publishes.
    reviewer = _log_in_other(browser, live_server, "bob", f"/postmortems/{postmortem.pk}/")
    try:
        reviewer.get_by_role("button", name="Approve").click()
        expect(reviewer.locator(".messages")).to_contain_text("Approved")
        reviewer.get_by_role("button", name="Publish").click()
        expect(reviewer.locator(".messages")).to_contain_text("Published")
    finally:
        reviewer.context.close()
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.PUBLISHED

    # Found in the library by a word of its root cause.
    page.goto(f"{live_server.url}/postmortems/library/")
    page.get_by_label("Search", exact=True).fill(ROOT_CAUSE_WORD)
    page.get_by_role("button", name="Search").click()
    results = page.locator("#library-results")
    expect(results).to_contain_text(incident.number)
    expect(results).to_contain_text("Checkout times out for every card payment")

    # Offered on a new incident of the same service.
    again = make_incident(team=payments, by=alice, sev="SEV2", services=[checkout], title="Checkout slow again")
    page.goto(f"{live_server.url}/incidents/{again.number}/")
    similar = page.locator("#similar")
    expect(similar).to_contain_text("Similar past incidents")
    expect(similar).to_contain_text(f"{incident.number} Checkout times out for every card payment")
    expect(similar).to_contain_text(f"Root cause: A {ROOT_CAUSE_WORD} pool")
    similar.get_by_role("link", name=incident.number).click()
    expect(page).to_have_url(f"{live_server.url}/postmortems/{postmortem.pk}/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "vigil-postmortem-published-390.png"), full_page=True)
