"""Admin for integrations, maintenance windows and alerts (wired by incidents/admin.py importing admin_alerts)."""

import pytest
from django.contrib import admin

from incidents.models import Integration
from incidents.services import AlertEvent, create_integration, ingest_event

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not admin.site.is_registered(Integration),
                       reason="incidents/admin.py does not import admin_alerts yet"),
]


def test_staff_creates_an_integration_in_the_admin_and_sees_the_key_once(client, sam, checkout):
    client.force_login(sam)
    response = client.post("/admin/incidents/integration/add/", {
        "service": checkout.pk, "kind": "webhook", "name": "From admin", "enabled": "on", "auto_resolve": "on",
        "severity_map": "{}", "rate_per_second": 60, "burst": 200,
    }, follow=True)
    assert response.status_code == 200
    integration = Integration.objects.get()
    assert integration.name == "From admin"
    page = response.content.decode()
    assert "shown again" in page and integration.key_prefix in page


def test_admin_lists_render(client, sam, checkout, alice):
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    ingest_event(integration=integration, event=AlertEvent(action="trigger", dedup_key="k", summary="s"))
    client.force_login(sam)
    for url in ["/admin/incidents/integration/", "/admin/incidents/alert/", "/admin/incidents/maintenancewindow/",
                "/admin/incidents/alertgroup/",
                f"/admin/incidents/integration/{integration.pk}/change/"]:
        assert client.get(url).status_code == 200, url
