"""Admin for integrations, maintenance windows and alerts (wired by incidents/admin.py importing admin_alerts)."""

import pytest
from django.contrib import admin

from alerts.models import Alert, AlertGroup, Integration
from alerts.services import AlertEvent, create_integration, ingest_event
from incidents.models import MaintenanceWindow

pytestmark = pytest.mark.django_db


def test_the_ingestion_models_are_in_the_admin():
    for model in (Integration, Alert, AlertGroup, MaintenanceWindow):
        assert admin.site.is_registered(model), model


def test_staff_creates_an_integration_in_the_admin_and_sees_the_key_once(client, sam, checkout):
    client.force_login(sam)
    response = client.post("/admin/alerts/integration/add/", {
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
    for url in ["/admin/alerts/integration/", "/admin/alerts/alert/", "/admin/incidents/maintenancewindow/",
                "/admin/alerts/alertgroup/",
                f"/admin/alerts/integration/{integration.pk}/change/"]:
        assert client.get(url).status_code == 200, url


def test_the_admin_creates_an_integration_with_the_settings_given(client, sam, checkout):
    client.force_login(sam)
    client.post("/admin/alerts/integration/add/", {
        "service": checkout.pk, "kind": "events_v2", "name": "Throttled", "auto_resolve": "on",
        "severity_map": '{"critical": "SEV2"}', "rate_per_second": 5, "burst": 7,
    })
    integration = Integration.objects.get()
    assert (integration.enabled, integration.rate_per_second, integration.burst) == (False, 5, 7)
    assert integration.severity_map == {"critical": "SEV2"}


@pytest.mark.parametrize("changes, field, message", [
    ({"severity_map": '{"critical": ["SEV1"]}'}, "severity_map", "is not a severity"),
    ({"kind": "heartbeat"}, "interval_seconds", "A heartbeat needs interval_seconds"),
    ({"interval_seconds": 60}, "interval_seconds", "Only heartbeat integrations"),
])
def test_the_admin_shows_what_the_service_refuses_and_saves_nothing(client, sam, checkout, changes, field, message):
    client.force_login(sam)
    response = client.post("/admin/alerts/integration/add/", {
        "service": checkout.pk, "kind": "webhook", "name": "Refused", "enabled": "on", "auto_resolve": "on",
        "severity_map": "{}", "rate_per_second": 60, "burst": 200, **changes,
    })
    assert response.status_code == 200  # the form again, not a redirect
    assert message in response.context["adminform"].form.errors[field][0]
    assert "was added successfully" not in response.content.decode()
    assert not Integration.objects.exists()


@pytest.mark.parametrize("starts, ends, field, message", [
    ("2030-01-01", "2029-01-01", "ends_at", "must end after it starts"),
    ("0001-01-01", "2030-01-01", "starts_at", "outside the dates Vigil accepts"),
])
def test_the_admin_refuses_an_impossible_window_as_a_form_error(client, sam, checkout, starts, ends, field, message):
    client.force_login(sam)
    response = client.post("/admin/incidents/maintenancewindow/add/", {
        "service": checkout.pk, "starts_at_0": starts, "starts_at_1": "10:00:00",
        "ends_at_0": ends, "ends_at_1": "12:00:00", "reason": "upgrade",
    })
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors[field])
    assert not MaintenanceWindow.objects.exists()
