"""Protection: 413 over 512 KiB, nothing half-stored (the rate limit is test_rate_limit.py)."""

import json

import pytest

from alerts.models import Alert
from alerts.services import create_integration
from incidents.models import Incident

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_kind", ["events", "alertmanager", "webhook"])
def test_bodies_over_512_kib_are_refused_with_413(client, checkout, alice, url_kind):
    kind = {"events": "events_v2", "alertmanager": "alertmanager", "webhook": "webhook"}[url_kind]
    _, key = create_integration(service=checkout, kind=kind, name="Big", by=alice)
    url = {"events": "/api/v1/events/", "alertmanager": "/api/v1/integrations/alertmanager/",
           "webhook": f"/api/v1/integrations/webhook/{key}/"}[url_kind]
    body = json.dumps({"routing_key": key, "title": "x", "pad": "x" * (512 * 1024)})
    response = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_a_body_of_exactly_512_kib_is_read(client, events):
    body = {"routing_key": events.key, "event_action": "trigger", "dedup_key": "big",
            "payload": {"summary": "Big", "source": "x", "severity": "info", "custom_details": {"pad": ""}}}
    pad = 512 * 1024 - len(json.dumps(body))
    body["payload"]["custom_details"]["pad"] = "x" * pad
    raw = json.dumps(body)
    assert len(raw) == 512 * 1024
    assert client.post("/api/v1/events/", raw, content_type="application/json").status_code == 202


def test_one_bad_alert_in_a_notification_stores_none_of_them(client, checkout, alice):
    _, key = create_integration(service=checkout, kind="alertmanager", name="AM", by=alice)
    good = {"status": "firing", "labels": {"alertname": "A"}, "fingerprint": "a"}
    bad = {"status": "firing", "labels": {"alertname": "B"}}  # no fingerprint
    body = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [good, bad]}
    response = client.post("/api/v1/integrations/alertmanager/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert not Alert.objects.exists() and not Incident.objects.exists()
