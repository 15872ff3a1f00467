"""PagerDuty Events API v2 compatibility: /api/v1/events/ and /v2/enqueue, with the shared samples."""

import json
from pathlib import Path

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import create_integration
from incidents.models import Incident
from incidents.queries import timeline
from incidents.services import resolve_incident

pytestmark = pytest.mark.django_db

# shared/ sits beside the repository (locally and in CI).
SAMPLES = Path(__file__).resolve().parents[1] / "samples"  # copies of ../shared/samples


def sample(name: str, key: str) -> dict:
    return json.loads((SAMPLES / name).read_text().replace("REPLACE_WITH_INTEGRATION_KEY", key))



def post(client, body, url="/api/v1/events/"):
    return client.post(url, json.dumps(body) if not isinstance(body, str | bytes) else body,
                       content_type="application/json")


@pytest.mark.parametrize("url", ["/api/v1/events/", "/v2/enqueue"])
def test_sample_trigger_opens_a_sev1_incident_on_the_service(client, events, url):
    response = post(client, sample("pagerduty-trigger.json", events.key), url)

    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed",
                               "dedup_key": "checkout-api/high-error-rate"}
    incident = Incident.objects.get()
    assert incident.title == "Checkout API 5xx rate above 5% for 5 minutes"
    assert incident.severity.name == "SEV1"
    assert incident.source == "alert"
    assert incident.team.slug == "payments"
    assert [s.slug for s in incident.services.all()] == ["checkout"]
    assert incident.alert_count == 1 and incident.last_alert_at is not None
    alert = Alert.objects.get()
    assert alert.incident == incident
    assert alert.details == {"error_rate": "7.2%", "region": "eu-west-1"}
    assert alert.links == [{"href": "https://grafana.example.com/d/checkout", "text": "Checkout dashboard"}]
    assert (alert.source, alert.component, alert.group, alert.alert_class) == (
        "prometheus-eu-west-1", "checkout-api", "payments", "http-errors")
    assert alert.started_at.isoformat() == "2026-11-20T14:00:00+00:00"


def test_trigger_without_dedup_key_gets_one_generated_and_returned(client, events):
    body = sample("pagerduty-trigger.json", events.key)
    del body["dedup_key"]

    response = post(client, body)

    assert response.status_code == 202
    key = response.json()["dedup_key"]
    assert len(key) >= 16
    assert Alert.objects.get().dedup_key == key
    # The generated key works for a later resolve.
    post(client, {"routing_key": events.key, "event_action": "resolve", "dedup_key": key})
    assert Incident.objects.get().status == "resolved"


def test_repeated_trigger_joins_the_open_incident(client, events):
    body = sample("pagerduty-trigger.json", events.key)
    for _ in range(3):
        assert post(client, body).status_code == 202

    incident = Incident.objects.get()
    assert incident.alert_count == 3
    assert Alert.objects.filter(incident=incident).count() == 3
    assert incident.last_alert_at == Alert.objects.order_by("-received_at").first().received_at


def test_different_dedup_keys_open_different_incidents(client, events):
    body = sample("pagerduty-trigger.json", events.key)
    post(client, body)
    post(client, {**body, "dedup_key": "checkout-api/latency"})
    assert Incident.objects.count() == 2


def test_acknowledge_then_resolve_act_on_the_incident_and_the_key_starts_afresh(client, events):
    post(client, sample("pagerduty-trigger.json", events.key))
    ack = {"routing_key": events.key, "event_action": "acknowledge", "dedup_key": "checkout-api/high-error-rate"}

    assert post(client, ack).status_code == 202
    incident = Incident.objects.get()
    assert incident.status == "acknowledged" and incident.acknowledged_at is not None

    assert post(client, sample("pagerduty-resolve.json", events.key)).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert Alert.objects.get().status == "resolved"

    # The same key after resolution opens a new incident.
    post(client, sample("pagerduty-trigger.json", events.key))
    assert Incident.objects.count() == 2
    assert Incident.objects.order_by("-id").first().status == "triggered"


def test_resolve_of_an_unknown_key_is_accepted_and_changes_nothing(client, events):
    response = post(client, sample("pagerduty-resolve.json", events.key))
    assert response.status_code == 202
    assert response.json()["dedup_key"] == "checkout-api/high-error-rate"
    assert not Incident.objects.exists()


def test_incident_resolved_by_a_person_makes_the_next_trigger_open_a_new_one(client, events, alice):
    post(client, sample("pagerduty-trigger.json", events.key))
    resolve_incident(incident=Incident.objects.get(), by=alice)

    post(client, sample("pagerduty-trigger.json", events.key))

    assert Incident.objects.count() == 2
    assert Incident.objects.filter(status="triggered").count() == 1


def test_severity_map_of_the_integration_is_used(client, checkout, alice):
    integration, key = create_integration(service=checkout, kind="events_v2", name="Custom", by=alice,
                                          severity_map={"warning": "SEV2"})
    body = sample("pagerduty-trigger.json", key)
    body["payload"]["severity"] = "warning"
    post(client, body)
    assert Incident.objects.get().severity.name == "SEV2"
    body["payload"]["severity"] = "info"
    post(client, {**body, "dedup_key": "other"})
    assert Incident.objects.get(alerts__dedup_key="other").severity.name == "SEV4"


def test_alerts_appear_on_the_incident_timeline(client, events):
    post(client, sample("pagerduty-trigger.json", events.key))
    post(client, sample("pagerduty-trigger.json", events.key))
    events_ = timeline(Incident.objects.get())
    alerts = [e for e in events_ if e.kind == "alert"]
    assert len(alerts) == 2
    assert alerts[0].summary == "Alert: Checkout API 5xx rate above 5% for 5 minutes"
    assert alerts[0].data["dedup_key"] == "checkout-api/high-error-rate"


# --- Refusals: PagerDuty's error shape, nothing stored ---------------------------

def assert_refused(response, status=400, *needles):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"]
    joined = " ".join(body["errors"])
    for needle in needles:
        assert needle in joined, joined
    assert not Incident.objects.exists()
    assert not Alert.objects.exists()


def test_invalid_sample_is_refused_naming_summary_and_severity(client, events):
    response = post(client, sample("pagerduty-invalid.json", events.key))
    assert_refused(response, 400, "payload.summary", "payload.severity", "catastrophic")


def test_unknown_routing_key_is_refused_as_pagerduty_does(client, events):
    response = post(client, sample("pagerduty-trigger.json", "0" * 32))
    assert_refused(response, 400, "Invalid routing key")


@pytest.mark.parametrize(("change", "needle"), [
    (lambda b: b.update(event_action="explode"), "event_action"),
    (lambda b: b.pop("event_action"), "event_action"),
    (lambda b: b.update(payload="down"), "'payload' must be an object"),
    (lambda b: b.pop("payload"), "'payload' is missing"),
    (lambda b: b["payload"].update(summary=42), "'payload.summary' must be a string"),
    (lambda b: b["payload"].update(summary=""), "'payload.summary' must not be empty"),
    (lambda b: b["payload"].update(summary="x" * 1025), "longer than 1024"),
    (lambda b: b["payload"].pop("source"), "'payload.source' is missing"),
    (lambda b: b["payload"].update(severity=1), "payload.severity"),
    (lambda b: b["payload"].update(timestamp="yesterday"), "payload.timestamp"),
    (lambda b: b.update(dedup_key=["a"]), "'dedup_key' must be a string"),
    (lambda b: b.update(links="https://x"), "'links' must be a list"),
    (lambda b: b.update(links=[{"text": "no href"}]), "'links[0].href' is missing"),
])
def test_wrong_fields_are_refused_with_what_to_fix(client, events, change, needle):
    body = sample("pagerduty-trigger.json", events.key)
    change(body)
    assert_refused(post(client, body), 400, needle)


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
@pytest.mark.parametrize("extra", [{}, {"dedup_key": ""}])
def test_acknowledge_or_resolve_without_dedup_key_is_refused(client, events, action, extra):
    body = {"routing_key": events.key, "event_action": action, **extra}
    assert_refused(post(client, body), 400, "'dedup_key' is missing")


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_malformed_json_or_non_object_is_refused(client, events, raw):
    response = client.post("/api/v1/events/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"


def test_body_over_512_kib_is_refused_with_413(client, events):
    body = sample("pagerduty-trigger.json", events.key)
    body["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
    response = post(client, body)
    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_disabled_integration_refuses_events(client, events, alice):
    from alerts.services import update_integration

    update_integration(integration=events, by=alice, enabled=False)
    response = post(client, sample("pagerduty-trigger.json", events.key))
    assert_refused(response, 403, "disabled")


def test_key_of_another_kind_of_integration_is_refused(client, checkout, alice):
    _, key = create_integration(service=checkout, kind="alertmanager", name="AM", by=alice)
    assert_refused(post(client, sample("pagerduty-trigger.json", key)), 403, "alertmanager")


def test_get_is_not_allowed(client, events):
    assert client.get("/api/v1/events/").status_code == 405


def test_future_timestamp_does_not_break_the_incident(client, events):
    body = sample("pagerduty-trigger.json", events.key)
    body["payload"]["timestamp"] = (timezone.now().replace(year=timezone.now().year + 1)).isoformat()
    assert post(client, body).status_code == 202
    assert Incident.objects.get().started_at is None


def test_images_are_kept_on_the_alert_and_linked_from_the_incident_page(client, events, alice):
    body = sample("pagerduty-trigger.json", events.key)
    body["images"] = [
        {"src": "https://grafana.example.com/render/checkout.png", "href": "https://grafana.example.com/d/checkout",
         "alt": "5xx rate"},
        {"src": "https://grafana.example.com/render/latency.png"},
        {"src": "javascript:alert(1)", "alt": "never a link"},
    ]
    assert post(client, body).status_code == 202

    alert = Alert.objects.get()
    assert alert.images == body["images"]
    client.force_login(alice)
    page = client.get(f"/incidents/{alert.incident.number}/").content.decode()
    assert '<a class="alert-image" href="https://grafana.example.com/d/checkout"' in page
    assert "image: 5xx rate" in page
    assert 'href="https://grafana.example.com/render/latency.png"' in page
    assert "javascript:" not in page


def test_the_timeline_of_an_alert_opened_incident_starts_with_its_creation(api, client, events, alice):
    post(client, sample("pagerduty-trigger.json", events.key))
    post(client, sample("pagerduty-trigger.json", events.key))
    number = Incident.objects.get().number

    kinds = [e["kind"] for e in api.as_user(alice).get(f"/api/v1/incidents/{number}/timeline/").json()["results"]]

    assert kinds[:3] == ["created", "alert", "alert"]


def test_a_joining_trigger_stores_every_field_of_its_alert(client, events):
    body = sample("pagerduty-trigger.json", events.key)
    post(client, body)
    body["payload"].update(custom_details={"disk": "97%"}, component="pg", group="db", timestamp="2026-11-20T14:00:00Z",
                           **{"class": "disk"})

    assert post(client, body).status_code == 202

    incident = Incident.objects.get()
    alert = Alert.objects.order_by("-id").first()
    assert alert.incident == incident and alert.suppressed_by is None and alert.status == "firing"
    assert (alert.component, alert.group, alert.alert_class) == ("pg", "db", "disk")
    assert alert.details == {"disk": "97%"}
    assert alert.links == [{"href": "https://grafana.example.com/d/checkout", "text": "Checkout dashboard"}]
    assert alert.started_at.isoformat() == "2026-11-20T14:00:00+00:00"
    assert alert.received_at == alert.last_seen_at == incident.last_alert_at
    assert incident.alert_count == 2


def test_a_receiver_failing_on_a_new_alert_incident_stores_nothing(client, events):
    from incidents import signals

    def refuse(**kwargs):
        raise RuntimeError("listener failed")

    signals.incident_created.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            post(client, sample("pagerduty-trigger.json", events.key))
    finally:
        signals.incident_created.disconnect(refuse)

    assert not Incident.objects.exists() and not Alert.objects.exists() and not events.groups.exists()
    assert post(client, sample("pagerduty-trigger.json", events.key)).status_code == 202
    assert Incident.objects.get().number.endswith("-0001")  # the number was given back
