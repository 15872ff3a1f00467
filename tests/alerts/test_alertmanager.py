"""Alertmanager webhook (v4) with the shared samples: grouping, fingerprints, auto-resolve."""

import copy
import json
from pathlib import Path

import pytest

from alerts.models import Alert
from alerts.services import create_integration, update_integration
from incidents.models import Incident
from incidents.queries import timeline

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[1] / "samples"  # copies of ../shared/samples
URL = "/api/v1/integrations/alertmanager/"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def post(client, body, key):
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_firing_group_opens_one_incident_with_one_alert_per_fingerprint(client, am):
    response = post(client, sample("alertmanager-firing.json"), am.key)

    assert response.status_code == 202
    incident = Incident.objects.get()
    assert response.json()["incidents"] == [incident.number]
    assert incident.severity.name == "SEV1"  # severity="critical" label
    assert incident.title == "High error rate detected"
    assert incident.alert_count == 2
    alerts = {a.dedup_key: a for a in Alert.objects.all()}
    assert set(alerts) == {"c5a2f0e3d9b14a77", "0b7e61d2a4c83f19"}
    first = alerts["c5a2f0e3d9b14a77"]
    assert first.labels["instance"] == "10.0.3.11:8080"
    assert first.annotations["description"] == "5xx rate is 7.2% over the last 5 minutes"
    assert first.runbook_url == "https://runbooks.example.com/checkout-api#high-error-rate"
    assert first.generator_url.startswith("http://prometheus.example.com:9090/graph")
    assert first.started_at.isoformat() == "2026-11-20T14:00:00+00:00"


def test_repeated_notification_updates_the_alerts_instead_of_adding_more(client, am):
    post(client, sample("alertmanager-firing.json"), am.key)
    post(client, sample("alertmanager-firing.json"), am.key)

    assert Incident.objects.count() == 1
    assert Alert.objects.count() == 2
    assert Incident.objects.get().alert_count == 2


def test_a_new_fingerprint_in_the_group_joins_the_incident(client, am):
    post(client, sample("alertmanager-firing.json"), am.key)
    body = sample("alertmanager-firing.json")
    extra = copy.deepcopy(body["alerts"][0])
    extra.update(fingerprint="ffff000011112222")
    extra["labels"]["instance"] = "10.0.3.13:8080"
    body["alerts"].append(extra)

    post(client, body, am.key)

    incident = Incident.objects.get()
    assert incident.alert_count == 3


def test_resolved_notification_resolves_the_alerts_and_then_the_incident(client, am):
    post(client, sample("alertmanager-firing.json"), am.key)

    response = post(client, sample("alertmanager-resolved.json"), am.key)

    assert response.status_code == 202
    incident = Incident.objects.get()
    assert incident.status == "resolved"
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
    assert Alert.objects.first().resolved_at.isoformat() == "2026-11-20T14:25:00+00:00"
    kinds = [e.kind for e in timeline(incident)]
    assert kinds.count("alert") == 4  # two received, two resolved


def test_incident_stays_open_while_one_alert_still_fires(client, am):
    post(client, sample("alertmanager-firing.json"), am.key)
    body = sample("alertmanager-resolved.json")
    body["alerts"] = body["alerts"][:1]

    post(client, body, am.key)

    incident = Incident.objects.get()
    assert incident.is_open
    assert dict(Alert.objects.values_list("dedup_key", "status")) == {
        "c5a2f0e3d9b14a77": "resolved", "0b7e61d2a4c83f19": "firing"}


def test_without_auto_resolve_the_incident_stays_open(client, am, alice):
    update_integration(integration=am, by=alice, auto_resolve=False)
    post(client, sample("alertmanager-firing.json"), am.key)
    post(client, sample("alertmanager-resolved.json"), am.key)

    assert Incident.objects.get().status == "triggered"
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}


def test_firing_again_after_resolution_opens_a_new_incident(client, am):
    post(client, sample("alertmanager-firing.json"), am.key)
    post(client, sample("alertmanager-resolved.json"), am.key)
    post(client, sample("alertmanager-firing.json"), am.key)

    assert Incident.objects.count() == 2
    newest = Incident.objects.order_by("-id").first()
    assert newest.status == "triggered" and newest.alert_count == 2


def test_grafana_webhook_contact_point_payload_is_accepted(client, am):
    body = sample("alertmanager-firing.json")
    body.update(version="1", orgId=1, title="[FIRING:2] HighErrorRate", state="alerting", message="…")
    for alert in body["alerts"]:
        alert.update(values={"B": 7.2}, silenceURL="http://grafana/silence", dashboardURL="", panelURL="",
                     valueString="[ var='B' value=7.2 ]")
    assert post(client, body, am.key).status_code == 202
    assert Incident.objects.count() == 1


# --- Refusals -----------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrongwrongwrongwrong", "Basic dXNlcjpwYXNz"])
def test_missing_or_wrong_bearer_key_is_401(client, am, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, json.dumps(sample("alertmanager-firing.json")),
                           content_type="application/json", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"
    assert not Alert.objects.exists()


def test_events_v2_key_on_the_alertmanager_endpoint_is_refused(client, checkout, alice):
    _, key = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    assert post(client, sample("alertmanager-firing.json"), key).status_code == 403


@pytest.mark.parametrize(("change", "needle"), [
    (lambda b: b.update(version="3"), "'version'"),
    (lambda b: b.update(alerts=[]), "'alerts' must be a non-empty list"),
    (lambda b: b.pop("groupKey"), "'groupKey' is missing"),
    (lambda b: b.update(status="exploded"), "'status'"),
    (lambda b: b["alerts"][1].pop("fingerprint"), "'alerts[1].fingerprint' is missing"),
    (lambda b: b["alerts"][1].update(labels=["a"]), "'alerts[1].labels' must be an object"),
    (lambda b: b["alerts"][0].update(labels={"n": 1}), "'alerts[0].labels' must map names to strings"),
    (lambda b: b["alerts"][0].update(startsAt="soon"), "'alerts[0].startsAt'"),
    (lambda b: b["alerts"].append("x"), "'alerts[2]' must be an object"),
    (lambda b: b["alerts"][0].update(status=None), "'alerts[0].status' is missing"),
    (lambda b: b["alerts"][0].update(annotations="text"), "'alerts[0].annotations' must be an object"),
])
def test_bad_payloads_are_refused_and_nothing_is_stored(client, am, change, needle):
    body = sample("alertmanager-firing.json")
    change(body)
    response = post(client, body, am.key)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid"
    assert any(needle in e for e in data["errors"]), data["errors"]
    assert not Alert.objects.exists() and not Incident.objects.exists()


def test_malformed_json_is_400(client, am):
    response = post(client, b'{"version": "4", ', am.key)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_javascript_runbook_url_is_not_linked(client, am):
    body = sample("alertmanager-firing.json")
    body["commonAnnotations"]["runbook_url"] = "javascript:alert(1)"
    post(client, body, am.key)
    assert set(Alert.objects.values_list("runbook_url", flat=True)) == {""}
