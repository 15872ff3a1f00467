"""Lenient with senders, strict with meaning: fields Vigil does not know are accepted, kept on the alert and counted.

Every ingest body (Events v2 top level and payload, Alertmanager top level and
each alert, the generic webhook) may carry fields Vigil does not know. They
are stored on the alert as ``unknown_fields``, in the body's shape, and
counted per integration in /metrics as ``vigil_ingest_unknown_fields_total``.
A missing or wrongly typed field Vigil needs stays a 400 naming it.
"""

import json
from pathlib import Path

import pytest

from alerts.models import Alert
from incidents.models import Incident

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[1] / "samples"  # copies of ../shared/samples
TOKEN = "unknown-fields-metrics-token"


def sample(name: str, key: str = "") -> dict:
    return json.loads((SAMPLES / name).read_text().replace("REPLACE_WITH_INTEGRATION_KEY", key))


@pytest.fixture
def unknown_fields_counted(client, settings):
    """How many unknown fields /metrics has counted for an integration so far (counters live for the process)."""
    settings.METRICS_TOKEN = TOKEN

    def counted(integration) -> float:
        series = f'vigil_ingest_unknown_fields_total{{integration="{integration.pk}",kind="{integration.kind}"}} '
        text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
        return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series)), 0.0)

    return counted


def post_alertmanager(client, body, key):
    return client.post("/api/v1/integrations/alertmanager/", json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_real_alertmanager_body_with_fields_vigil_does_not_know_is_stored_with_them(
        client, am, unknown_fields_counted):
    body = sample("alertmanager-firing.json")
    body["tenant"] = {"id": "eu-1"}  # a newer Alertmanager, or a proxy in between, adds fields
    body["alerts"][1]["silencedBy"] = ["4f1c"]
    before = unknown_fields_counted(am)

    response = post_alertmanager(client, body, am.key)

    assert response.status_code == 202, response.content
    incident = Incident.objects.get()
    assert incident.alert_count == 2
    stored = dict(Alert.objects.values_list("dedup_key", "unknown_fields"))
    assert stored == {
        "c5a2f0e3d9b14a77": {"tenant": {"id": "eu-1"}},
        "0b7e61d2a4c83f19": {"tenant": {"id": "eu-1"}, "alerts": [{"silencedBy": ["4f1c"]}]},
    }
    assert unknown_fields_counted(am) - before == 2


def test_a_repeated_notification_keeps_the_latest_unknown_fields(client, am):
    body = sample("alertmanager-firing.json")
    post_alertmanager(client, body, am.key)
    body["alerts"][0]["silencedBy"] = ["4f1c"]

    assert post_alertmanager(client, body, am.key).status_code == 202

    alert = Alert.objects.get(dedup_key="c5a2f0e3d9b14a77")
    assert alert.unknown_fields == {"alerts": [{"silencedBy": ["4f1c"]}]}
    assert Alert.objects.count() == 2


def test_an_events_v2_event_with_unknown_fields_at_the_top_and_in_its_payload_is_stored_with_them(
        client, events, unknown_fields_counted):
    body = sample("pagerduty-trigger.json", events.key)
    body["priority"] = "P1"
    body["payload"]["colour"] = "red"
    before = unknown_fields_counted(events)

    response = client.post("/v2/enqueue", json.dumps(body), content_type="application/json")

    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert alert.unknown_fields == {"priority": "P1", "payload": {"colour": "red"}}
    assert alert.details == {"error_rate": "7.2%", "region": "eu-west-1"}  # the known fields, as ever
    assert unknown_fields_counted(events) - before == 2


def test_unknown_fields_are_counted_per_integration(client, hook, am, unknown_fields_counted):
    before = unknown_fields_counted(hook), unknown_fields_counted(am)

    client.post(hook.url, json.dumps({"title": "Export failed", "host": "cron-1", "try": 3}),
                content_type="application/json")

    assert (unknown_fields_counted(hook), unknown_fields_counted(am)) == (before[0] + 2, before[1])


def test_the_api_shows_an_alerts_unknown_fields(client, api, hook, alice):
    client.post(hook.url, json.dumps({"title": "Export failed", "host": "cron-1"}), content_type="application/json")

    (alert,) = api.as_user(alice).get("/api/v1/alerts/").json()["results"]

    assert alert["unknown_fields"] == {"host": "cron-1"}


@pytest.mark.parametrize(("change", "needle"), [
    (lambda b: b["payload"].pop("summary"), "'payload.summary' is missing"),
    (lambda b: b["payload"].update(source=["db1"]), "'payload.source' must be a string"),
    (lambda b: b.update(event_action=None), "'event_action' is missing"),
])
def test_a_missing_or_wrongly_typed_field_is_still_refused_beside_unknown_ones(client, events, change, needle):
    body = sample("pagerduty-trigger.json", events.key)
    body["priority"] = "P1"
    change(body)

    response = client.post("/v2/enqueue", json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert any(needle in error for error in response.json()["errors"]), response.json()
    assert not Alert.objects.exists()
