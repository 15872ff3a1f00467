"""Integration, alerts and maintenance pages of a service, in the browser (Django test client)."""

import pytest

from alerts.models import Integration
from alerts.services import AlertEvent, create_integration, ingest_event
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_lead_creates_an_integration_and_sees_the_key_exactly_once(client, alice, checkout):
    client.force_login(alice)
    response = client.post("/services/checkout/integrations/", {"action": "create", "kind": "webhook",
                                                                 "name": "Cron"}, follow=True)
    assert response.status_code == 200
    integration = Integration.objects.get()
    page = response.content.decode()
    assert "copy it now" in page
    key = page.split('id="new-key"')[1].split("<code>")[1].split("</code>")[0]
    assert len(key) == 32 and key.startswith(integration.key_prefix)
    assert f"/api/v1/integrations/webhook/{key}/" in page

    again = client.get(f"/services/checkout/integrations/{integration.pk}/").content.decode()
    assert key not in again
    assert f"{integration.key_prefix}…" in again


def test_rotate_disable_and_change_settings_from_the_page(client, alice, checkout):
    integration, key = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    client.force_login(alice)
    url = f"/services/checkout/integrations/{integration.pk}/"

    rotated = client.post(url, {"action": "rotate"}, follow=True).content.decode()
    integration.refresh_from_db()
    assert "copy it now" in rotated and key not in rotated

    client.post(url, {"action": "update", "name": "PagerDuty clients", "severity_map": '{"warning": "SEV2"}',
                      "rate_per_second": 10, "burst": 20})
    integration.refresh_from_db()
    assert (integration.name, integration.enabled, integration.auto_resolve) == ("PagerDuty clients", False, False)
    assert integration.severity_map == {"warning": "SEV2"}

    bad = client.post(url, {"action": "update", "name": "x", "severity_map": '{"warning": "SEV7"}',
                            "rate_per_second": 10, "burst": 20})
    assert bad.status_code == 200 and "SEV7" in bad.content.decode()


def test_member_sees_the_page_without_forms_and_may_not_post(client, bob, alice, checkout):
    create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    client.force_login(bob)
    page = client.get("/services/checkout/integrations/").content.decode()
    assert "PD" in page and "Create integration" not in page
    assert client.post("/services/checkout/integrations/", {"action": "create", "kind": "webhook",
                                                            "name": "x"}).status_code == 403


def test_outsider_gets_404_for_every_page(client, charlie, alice, checkout):
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    client.force_login(charlie)
    for url in ["/services/checkout/integrations/", f"/services/checkout/integrations/{integration.pk}/",
                "/services/checkout/alerts/"]:
        assert client.get(url).status_code == 404, url


def test_alerts_page_lists_alerts_with_their_incident_in_constant_queries(
        client, alice, checkout, django_assert_max_num_queries):
    client.force_login(alice)

    def seed(n):
        for i in range(n):
            integration, _ = create_integration(service=checkout, kind="events_v2", name=f"I{i}", by=alice)
            ingest_event(integration=integration, event=AlertEvent(
                action="trigger", dedup_key=f"k{i}", summary=f"Alert number {i}",
                runbook_url="https://runbooks.example.com/x"))

    seed(2)
    with django_assert_max_num_queries(20) as few:
        page = client.get("/services/checkout/alerts/")
        client.get("/services/checkout/integrations/")
    assert "Alert number 1" in page.content.decode()
    assert "https://runbooks.example.com/x" in page.content.decode()
    seed(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/services/checkout/alerts/")
        client.get("/services/checkout/integrations/")
    assert page.content.decode().count('class="alert-row"') == 12


def test_alerts_partial_on_an_incident_shows_count_and_alerts(alice, checkout):
    from django.template.loader import render_to_string

    integration, _ = create_integration(service=ServiceFactory(team=checkout.team), kind="events_v2",
                                        name="PD", by=alice)
    for _ in range(2):
        outcome = ingest_event(integration=integration, event=AlertEvent(action="trigger", dedup_key="k",
                                                                          summary="Checkout 5xx"))
    html = render_to_string("alerts/_incident_alerts.html", {"incident": outcome.incident})
    assert "Alerts (2)" in html
    assert html.count('class="alert-row"') == 2


def test_incident_page_lists_its_alerts_and_service_page_links_to_integrations(client, bob, alice, checkout):
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    for _ in range(3):
        outcome = ingest_event(integration=integration, event=AlertEvent(
            action="trigger", dedup_key="k", summary="Checkout 5xx above 5%",
            runbook_url="https://runbooks.example.com/checkout"))
    client.force_login(bob)

    page = client.get(f"/incidents/{outcome.incident.number}/").content.decode()

    assert "Alerts (3)" in page
    assert page.count('class="alert-row"') == 3
    assert "https://runbooks.example.com/checkout" in page
    service_page = client.get("/services/checkout/").content.decode()
    assert "/services/checkout/integrations/" in service_page and "/services/checkout/alerts/" in service_page


def test_a_heartbeats_interval_and_grace_are_changed_from_its_page(client, alice, checkout):
    integration, _ = create_integration(service=checkout, kind="heartbeat", name="Backups", by=alice,
                                        interval_seconds=300, grace_seconds=60)
    client.force_login(alice)
    url = f"/services/checkout/integrations/{integration.pk}/"
    assert 'name="interval_seconds" value="300"' in client.get(url).content.decode()

    client.post(url, {"action": "update", "name": "Backups", "enabled": "on", "rate_per_second": 60, "burst": 200,
                      "interval_seconds": 3600, "grace_seconds": 600})
    integration.refresh_from_db()
    assert (integration.interval_seconds, integration.grace_seconds) == (3600, 600)

    refused = client.post(url, {"action": "update", "name": "Backups", "rate_per_second": 60, "burst": 200,
                                "interval_seconds": 0, "grace_seconds": 600})
    assert refused.status_code == 200 and "greater than or equal to 1" in refused.content.decode()
    integration.refresh_from_db()
    assert integration.interval_seconds == 3600


def test_other_kinds_have_no_interval_on_their_page(client, alice, checkout):
    integration, _ = create_integration(service=checkout, kind="webhook", name="Cron", by=alice)
    client.force_login(alice)
    assert 'name="interval_seconds"' not in client.get(
        f"/services/checkout/integrations/{integration.pk}/").content.decode()
