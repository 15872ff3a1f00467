"""The communications lead posts a public update from a template; an anonymous visitor reads it on the
status page, and nothing internal is there."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from comms.services import create_component
from incidents.models import RoleAssignment
from incidents.services import add_note, assign_role, post_status_update, transition_incident
from tests.factories import ensure_severities, make_incident

SCREENSHOTS = Path(os.environ.get("VIGIL_SCREENSHOTS", tempfile.gettempdir()))

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET_NOTE = "Rotating the db password hunter2"
INTERNAL_UPDATE = "Internal only: the vendor's account manager is Jane"


def test_comms_lead_posts_a_public_update_from_a_template(page: Page, browser: Browser, live_server, log_in,
                                                          alice, bob, checkout, payments):
    ensure_severities()
    create_component(team=payments, name="Card checkout", services=[checkout], by=None)
    incident = make_incident(team=payments, by=alice, sev="SEV2", services=[checkout],
                             title="Card payments declined")
    transition_incident(incident=incident, transition="acknowledge", by=alice)
    assign_role(incident=incident, role=RoleAssignment.Role.COMMS_LEAD, user=bob, by=alice)
    add_note(incident=incident, body=SECRET_NOTE, by=alice)
    post_status_update(incident=incident, state="investigating", body=INTERNAL_UPDATE, by=alice)

    log_in(page, "bob", f"/incidents/{incident.number}/")
    updates = page.locator("#updates")
    updates.get_by_label("Start from a template").select_option(label="Status page: investigating")
    updates.get_by_role("button", name="Fill from template").click()
    text = updates.get_by_label("Update", exact=True)
    expect(text).not_to_have_value("")
    drafted = text.input_value()
    assert "{{" not in drafted and "Alice" not in drafted  # rendered, and no people's names in public text
    text.fill(drafted + " Reference 7781.")
    expect(updates.get_by_label("Public")).to_be_checked()
    updates.get_by_label("Next update").select_option(label="in 30 minutes")
    updates.get_by_role("button", name="Post update").click()
    expect(page.locator(".messages")).to_contain_text("Update posted on the status page")
    expect(page.locator("#next-update")).to_contain_text("Next update promised for")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "vigil-update-from-template-1280.png"), full_page=True)

    visitor = browser.new_context()  # anonymous: no cookies
    try:
        public = visitor.new_page()
        public.goto(f"{live_server.url}/status/")
        expect(public.get_by_text("Reference 7781.", exact=False)).to_be_visible()
        expect(public.locator("body")).to_contain_text("Card payments declined")
        html = public.content()
        for internal in (SECRET_NOTE, INTERNAL_UPDATE, "Alice", "Bob", "alice", "bob"):
            assert internal not in html, internal
        public.set_viewport_size({"width": 390, "height": 844})
        public.screenshot(path=str(SCREENSHOTS / "vigil-status-page-390.png"), full_page=True)
    finally:
        visitor.close()
