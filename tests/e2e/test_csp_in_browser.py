"""Under the Content-Security-Policy, pages and the API docs still work in Chromium, with no violation reported."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    return seen


def test_swagger_ui_renders_from_vigils_own_files(page: Page, live_server):
    violations = _violations(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    assert violations == []
    assert requested and all(url.startswith(live_server.url) for url in requested), requested


def test_pages_with_htmx_report_no_violation(page: Page, live_server, log_in, alice):
    violations = _violations(page)
    log_in(page, "alice", "/incidents/")
    page.goto(f"{live_server.url}/oncall/")
    page.goto(f"{live_server.url}/incidents/new/")
    assert page.evaluate("typeof htmx") == "object"
    assert violations == []
