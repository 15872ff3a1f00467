"""Maintenance windows: alerts are stored and shown, but open no incident and page no one."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import AlertEvent, ingest_event
from incidents import signals
from incidents.models import Incident
from incidents.services import create_maintenance_window, end_maintenance_window

pytestmark = pytest.mark.django_db



@pytest.fixture
def window(checkout, alice):
    now = timezone.now()
    return create_maintenance_window(service=checkout, starts_at=now - timedelta(minutes=5),
                                     ends_at=now + timedelta(hours=1), reason="DB upgrade", by=alice)


def trigger(client, key, dedup="db-down"):
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": "DB down", "source": "db1", "severity": "critical"}}
    return client.post("/api/v1/events/", json.dumps(body), content_type="application/json")


def test_alert_during_a_window_is_stored_but_opens_no_incident_and_pages_no_one(client, events, window):
    created = []
    signals.incident_created.connect(lambda **kw: created.append(kw), weak=False, dispatch_uid="t-maint")
    try:
        response = trigger(client, events.key)
    finally:
        signals.incident_created.disconnect(dispatch_uid="t-maint")

    assert response.status_code == 202
    assert not Incident.objects.exists()
    assert created == []
    alert = Alert.objects.get()
    assert alert.suppressed_by == window
    assert alert.incident is None


def test_alerts_page_shows_suppressed_alerts(client, events, window, bob, checkout):
    trigger(client, events.key)
    client.force_login(bob)
    page = client.get(f"/services/{checkout.slug}/alerts/")
    assert page.status_code == 200
    assert "DB down" in page.content.decode()
    assert "suppressed (maintenance)" in page.content.decode()


def test_after_the_window_alerts_open_incidents_again(client, events, window, alice):
    end_maintenance_window(window=window, by=alice)
    trigger(client, events.key)
    assert Incident.objects.count() == 1


def test_a_window_of_another_service_does_not_suppress(client, events, alice, payments):
    from tests.factories import ServiceFactory

    other = ServiceFactory(team=payments)
    now = timezone.now()
    create_maintenance_window(service=other, starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1),
                              by=alice)
    trigger(client, events.key)
    assert Incident.objects.count() == 1


def test_window_boundaries_use_the_injected_clock(events, checkout, alice):
    start = timezone.now() + timedelta(days=1)
    create_maintenance_window(service=checkout, starts_at=start, ends_at=start + timedelta(hours=1), by=alice)
    event = AlertEvent(action="trigger", dedup_key="k", summary="s", source="x")
    assert ingest_event(integration=events, event=event, now=start - timedelta(seconds=1)).result == "triggered"
    assert ingest_event(integration=events, event=AlertEvent(action="trigger", dedup_key="k2", summary="s"),
                        now=start).result == "suppressed"
    assert ingest_event(integration=events, event=AlertEvent(action="trigger", dedup_key="k3", summary="s"),
                        now=start + timedelta(hours=1)).result == "triggered"


def test_only_leads_plan_maintenance(checkout, bob):
    from django.core.exceptions import PermissionDenied

    now = timezone.now()
    with pytest.raises(PermissionDenied):
        create_maintenance_window(service=checkout, starts_at=now, ends_at=now + timedelta(hours=1), by=bob)


def test_an_alert_held_by_a_window_resolves_with_its_key_after_the_window(client, events, window, alice):
    trigger(client, events.key)  # in the window: suppressed
    end_maintenance_window(window=window, by=alice)
    trigger(client, events.key)  # after it: opens an incident

    body = {"routing_key": events.key, "event_action": "resolve", "dedup_key": "db-down"}
    assert client.post("/api/v1/events/", json.dumps(body), content_type="application/json").status_code == 202

    assert Incident.objects.get().status == "resolved"
    held, paged = Alert.objects.order_by("id")
    assert (held.incident, held.suppressed_by, held.status) == (None, window, "resolved")
    assert (paged.incident, paged.status) == (Incident.objects.get(), "resolved")


def test_an_alertmanager_alert_held_by_a_window_resolves_after_the_window(client, am, window, alice):
    def notify(status):
        body = {"version": "4", "groupKey": "g", "status": status, "alerts": [
            {"status": status, "labels": {"alertname": "DiskFull"}, "fingerprint": "f1"}]}
        response = client.post("/api/v1/integrations/alertmanager/", json.dumps(body),
                               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {am.key}")
        assert response.status_code == 202

    notify("firing")
    end_maintenance_window(window=window, by=alice)
    notify("firing")
    notify("resolved")

    assert Incident.objects.get().status == "resolved"
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
