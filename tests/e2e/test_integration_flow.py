"""A team lead wires a monitoring tool to Vigil in a real browser, and the tool's alerts show up.

The lead creates an Events v2 integration on the service page and copies the
key shown once; a PagerDuty client (pdpyras, over real HTTP) triggers with it;
the incident page lists the alert and puts it on the timeline; rotating the
key on the page stops the old one at once.
"""

import re

import pdpyras
import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.factories import ensure_severities

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lead(alice, checkout):
    # Transactional tests flush the migration's severities; put them back.
    ensure_severities()
    return alice


def _sender(key: str, live_server) -> pdpyras.EventsAPISession:
    session = pdpyras.EventsAPISession(key)
    session.url = live_server.url
    return session


def test_lead_connects_a_pagerduty_client_and_sees_its_alerts(page: Page, live_server, log_in, lead):
    log_in(page, "alice", "/services/checkout/integrations/")
    page.get_by_label("Kind").select_option(label="PagerDuty Events API v2")
    page.get_by_label("Name").fill("Prometheus eu-west-1")
    page.get_by_role("button", name="Create integration").click()

    notice = page.locator("#new-key")
    expect(notice).to_contain_text("copy it now")
    key = notice.locator("code").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{32}", key)

    with _sender(key, live_server) as sender:
        dedup_key = sender.trigger("Checkout 5xx above 5%", "prometheus", severity="critical",
                                   dedup_key="checkout/high-error-rate")
        sender.trigger("Checkout 5xx above 5%", "prometheus", severity="critical", dedup_key=dedup_key)
    incident = Incident.objects.get()

    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout 5xx above 5%")
    alerts = page.locator("#alerts")
    expect(alerts.get_by_role("heading")).to_contain_text("Alerts (2)")
    expect(alerts.locator(".alert-row")).to_have_count(2)
    expect(page.locator(".timeline")).to_contain_text("Alert: Checkout 5xx above 5%")

    # Back on the integration: the key is masked now; rotating shows a new one and retires the old.
    page.goto(f"{live_server.url}/services/checkout/integrations/")
    page.get_by_role("link", name="Prometheus eu-west-1").click()
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(key)
    page.get_by_role("button", name="Rotate key").click()
    new_key = page.locator("#new-key code").inner_text().strip()
    assert new_key != key

    with _sender(key, live_server) as old, pytest.raises(pdpyras.PDClientError) as refused:
        old.trigger("Still there?", "prometheus", dedup_key="other")
    assert refused.value.response.status_code == 400
    assert "Invalid routing key" in refused.value.response.text
    with _sender(new_key, live_server) as new:
        new.resolve(dedup_key)
    incident.refresh_from_db()
    assert incident.status == "resolved"
