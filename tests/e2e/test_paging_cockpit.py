"""The cockpit in a real browser: alice pages the platform team from a payments incident; ivan gets
the e-mail, follows its one-click link, lands on the incident acknowledged and sees it in his pages;
alice's page shows it within one refresh, without a reload, keeping what she was typing."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, expect

from incidents.models import Incident
from tests.factories import ensure_severities, make_incident
from tests.paging.cockpit import ivan, platform  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outage(alice, checkout):
    ensure_severities()  # transactional tests flush the migration's severities
    return make_incident(team=checkout.team, by=alice, services=[checkout], title="Checkout 5xx above 5%", sev="SEV1")


def test_alice_pages_platform_and_ivan_acknowledges_from_the_email(
        browser: Browser, live_server, log_in, outage, ivan, deliver_queued):  # noqa: F811
    alices = browser.new_context().new_page()
    log_in(alices, "alice", f"/incidents/{outage.number}/")
    alices.locator("#paging summary").click()
    alices.get_by_label("Whom to page").select_option("team_members:platform")
    alices.locator("#id_page_message").fill("Need a DBA: the orders database is slow")
    alices.locator("#paging").get_by_role("button", name="Page").click()
    expect(alices.locator(".messages")).to_contain_text("Paged Ivan Ivanov")
    expect(alices.locator("#paging-live .responders")).to_contain_text("Ivan Ivanov")

    deliver_queued()
    [email] = [m for m in mail.outbox if m.to == [ivan.email]]
    assert "Need a DBA" in email.body
    path = re.search(r"Acknowledge: \S+?(/paging/ack/\S+/)", email.body)[1]

    # Alice starts typing a note while the page refreshes itself around her.
    alices.evaluate("window.vigilMarker = 'same page'")
    alices.locator("#id_note_body").fill("rolling back deploy 42")

    ivans = browser.new_context().new_page()
    log_in(ivans, "ivan", "/paging/mine/")
    expect(ivans.locator("table.my-pages")).to_contain_text(outage.number)
    ivans.goto(f"{live_server.url}{path}")  # ack.js submits the form at once
    expect(ivans).to_have_url(f"{live_server.url}/incidents/{outage.number}/")
    expect(ivans.locator(".messages")).to_contain_text(f"Acknowledged {outage.number} as Ivan Ivanov")
    expect(ivans.locator("#incident-head .status-acknowledged")).to_be_visible()
    ivans.goto(f"{live_server.url}/paging/mine/")
    expect(ivans.locator("table.my-pages")).to_contain_text("Acknowledged")
    assert Incident.objects.get(pk=outage.pk).status == "acknowledged"

    # Within one 15-second poll, alice sees it: no reload, her note still there.
    expect(alices.locator("#incident-head .status-acknowledged")).to_be_visible(timeout=20000)
    expect(alices.locator("#timeline-events")).to_contain_text("Ivan Ivanov")
    expect(alices.locator('[data-transition="acknowledge"]')).to_have_count(0)
    assert alices.evaluate("window.vigilMarker") == "same page"
    expect(alices.locator("#id_note_body")).to_have_value("rolling back deploy 42")


def test_a_link_opened_without_javascript_only_shows_the_button(browser: Browser, live_server, outage, alice, ivan):  # noqa: F811
    from paging.links import ack_token
    from paging.services.pages import page

    [notification] = page(incident=outage, targets=[{"type": "user", "id": "ivan"}], by=alice)
    scanner = browser.new_context(java_script_enabled=False).new_page()
    scanner.goto(f"{live_server.url}/paging/ack/{ack_token(notification.pk)}/")
    expect(scanner.get_by_role("button", name="Acknowledge as Ivan Ivanov")).to_be_visible()
    assert Incident.objects.get(pk=outage.pk).status == "triggered"
    scanner.get_by_role("button", name="Acknowledge as Ivan Ivanov").click()
    expect(scanner.locator("#ack")).to_contain_text(f"Acknowledged {outage.number} as Ivan Ivanov")
    expect(scanner.get_by_role("link", name="Log in to work it")).to_have_attribute(
        "href", f"/accounts/login/?next=%2Fincidents%2F{outage.number}%2F")
    assert Incident.objects.get(pk=outage.pk).status == "acknowledged"
