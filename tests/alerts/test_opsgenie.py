"""Opsgenie Alert API compatibility: POST /v2/alerts, …/{identifier}/close and …/acknowledge.

Bodies are the ones Opsgenie documents and Grafana's Opsgenie contact point sends; the last
test runs Debian's Prometheus Alertmanager with an ``opsgenie_configs`` receiver pointed at Vigil.
"""

import json
import uuid
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from alerts.models import Alert
from alerts.services import create_integration, update_integration
from incidents.models import Incident
from incidents.services import create_maintenance_window
from tests.alerts.test_interop import (  # noqa: F401 - a fixture
    alertmanager,
    incident_of,
    needs_alertmanager,
    readme_block,
    stored,
)
from tests.factories import ensure_severities
from tests.net import wait_until

pytestmark = pytest.mark.django_db

# Grafana's Opsgenie contact point, as it posts (grafana/alerting receivers/opsgenie): the alias is a
# hash of the alert group's key, the labels come as "name:value" tags, source is always "Grafana".
GRAFANA_CREATE = {
    "alias": "6d2bd3ac1bd5f0a1ea3ec2b0f6a2c8e8f6fe12a7ba9b4cbb0a6a10e0d2c4b3a1",
    "message": "[FIRING:1] CheckoutErrors checkout (critical)",
    "description": "[FIRING:1] CheckoutErrors\nhttp://grafana.example/alerting/list\n\nValue: 7.2",
    "details": {"url": "http://grafana.example/alerting/list"},
    "source": "Grafana",
    "tags": ["alertname:CheckoutErrors", "severity:critical"],
    "priority": "P1",
    "responders": [{"name": "payments", "type": "team"}],
}


@pytest.fixture
def genie(checkout, alice):
    """An opsgenie integration; its key on ``.key``."""
    integration, key = create_integration(service=checkout, kind="opsgenie", name="Grafana", by=alice)
    integration.key = key
    return integration


def post(client, path, body, key, **query):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    url = path + ("?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else "")
    return client.post(url, raw, content_type="application/json", HTTP_AUTHORIZATION=f"GenieKey {key}")


def create(client, key, **body):
    return post(client, "/v2/alerts", {"message": "Checkout API 5xx above 5%", **body}, key)


def assert_opsgenie_shape(response, status):
    """Every answer carries Opsgenie's ``took`` and a fresh ``requestId``, errors a ``message``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["took"], float)
    assert str(uuid.UUID(body["requestId"])) == body["requestId"]
    if status >= 400:
        assert body["message"]
    return body


# --- Create -------------------------------------------------------------------------------------

def test_create_opens_an_incident_on_the_service_and_answers_as_opsgenie(client, genie):
    response = post(client, "/v2/alerts", GRAFANA_CREATE, genie.key)

    body = assert_opsgenie_shape(response, 202)
    assert body["result"] == "Request will be processed"
    incident = Incident.objects.get()
    assert incident.title == "[FIRING:1] CheckoutErrors checkout (critical)"
    assert incident.severity.name == "SEV1"  # P1
    assert [s.slug for s in incident.services.all()] == ["checkout"]
    assert incident.status == "triggered" and incident.source == "alert"
    alert = Alert.objects.get()
    assert alert.incident == incident
    assert alert.dedup_key == GRAFANA_CREATE["alias"]
    assert (alert.summary, alert.source, alert.severity) == (GRAFANA_CREATE["message"], "Grafana", "critical")
    assert alert.details == {"url": "http://grafana.example/alerting/list"}
    # Opsgenie's fields without a column of their own are kept as sent; responders are accepted, not acted on.
    assert alert.annotations == {key: GRAFANA_CREATE[key] for key in ("description", "tags", "priority", "responders")}
    assert alert.unknown_fields == {}


def test_entity_is_the_component_and_source_defaults_to_opsgenie(client, genie):
    create(client, genie.key, entity="checkout-api")

    alert = Alert.objects.get()
    assert (alert.component, alert.source) == ("checkout-api", "opsgenie")


def test_repeated_create_with_one_alias_joins_its_open_incident(client, genie):
    for message in ("Checkout API 5xx above 5%", "Checkout API 5xx above 9%"):
        assert create(client, genie.key, alias="checkout-5xx", message=message).status_code == 202
    assert create(client, genie.key, alias="search-latency").status_code == 202

    assert Incident.objects.count() == 2
    incident = Alert.objects.get(dedup_key="checkout-5xx").incident
    # One alert per alias, as Opsgenie keeps one (and counts the duplicate): refreshed, not added.
    assert incident.alert_count == 1
    assert Alert.objects.get(dedup_key="checkout-5xx").summary == "Checkout API 5xx above 9%"
    assert incident.title == "Checkout API 5xx above 5%"


def test_fields_vigil_does_not_know_are_kept_not_refused(client, genie):
    assert create(client, genie.key, alias="a", extraProperties={"colour": "red"}).status_code == 202

    assert Alert.objects.get().unknown_fields == {"extraProperties": {"colour": "red"}}


@pytest.mark.parametrize(("priority", "severity"), [
    ("P1", "SEV1"), ("P2", "SEV2"), ("P3", "SEV3"), ("P4", "SEV4"), ("P5", "SEV4"),
    (None, "SEV3"), ("", "SEV3"),  # none given (or an empty template): P3, as Opsgenie does
])
def test_priority_maps_to_severity(client, genie, priority, severity):
    body = {} if priority is None else {"priority": priority}
    assert create(client, genie.key, alias="a", **body).status_code == 202

    alert = Alert.objects.select_related("incident__severity").get()
    assert alert.incident.severity.name == severity
    assert alert.annotations["priority"] == (priority or "P3")


def test_the_integrations_severity_map_applies_to_the_priority(client, genie, alice):
    update_integration(integration=genie, by=alice, severity_map={"warning": "SEV2"})  # P3 is a warning

    create(client, genie.key, alias="a", priority="P3")

    assert Incident.objects.get().severity.name == "SEV2"


def test_an_alias_longer_than_a_dedup_key_still_dedups_and_closes(client, genie):
    alias = "x" * 512
    create(client, genie.key, alias=alias)
    create(client, genie.key, alias=alias)
    incident = Incident.objects.get()

    assert post(client, f"/v2/alerts/{alias}/close", {}, genie.key, identifierType="alias").status_code == 202

    assert Incident.objects.get(pk=incident.pk).status == "resolved"


def test_an_alert_during_maintenance_is_stored_suppressed(client, genie, checkout, alice):
    now = timezone.now()
    create_maintenance_window(service=checkout, starts_at=now - timedelta(minutes=1),
                              ends_at=now + timedelta(hours=1), by=alice)

    assert create(client, genie.key, alias="a").status_code == 202

    assert not Incident.objects.exists()
    assert Alert.objects.get().suppressed


# --- Close and acknowledge ----------------------------------------------------------------------

def test_close_by_alias_resolves_the_incident_with_the_senders_note(client, genie):
    create(client, genie.key, alias="checkout-5xx")
    incident = Incident.objects.get()

    response = post(client, "/v2/alerts/checkout-5xx/close", {"user": "alice", "source": "cli", "note": "rolled back"},
                    genie.key, identifierType="alias")

    assert assert_opsgenie_shape(response, 202)["result"] == "Request will be processed"
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.history.first().history_change_reason == "Resolved by Grafana: alice: rolled back"
    assert Alert.objects.get().status == "resolved"
    # Closed, the alias is free: the next create opens a new incident.
    create(client, genie.key, alias="checkout-5xx")
    assert Incident.objects.count() == 2


def test_close_as_grafana_and_alertmanager_send_it(client, genie):
    post(client, "/v2/alerts", GRAFANA_CREATE, genie.key)

    response = post(client, f"/v2/alerts/{GRAFANA_CREATE['alias']}/close", {"source": "Grafana"}, genie.key,
                    identifierType="alias")

    assert response.status_code == 202
    assert Incident.objects.get().status == "resolved"
    assert Incident.objects.get().history.first().history_change_reason == "Resolved by Grafana"


def test_acknowledge_by_alias_acknowledges_the_incident(client, genie):
    create(client, genie.key, alias="checkout-5xx")

    response = post(client, "/v2/alerts/checkout-5xx/acknowledge", {"user": "bob", "note": "looking"}, genie.key,
                    identifierType="alias")

    assert response.status_code == 202
    incident = Incident.objects.get()
    assert incident.status == "acknowledged" and incident.acknowledged_at is not None
    assert incident.history.first().history_change_reason == "Acknowledged by Grafana: bob: looking"


def test_close_and_acknowledge_take_an_empty_body(client, genie):
    create(client, genie.key, alias="a")

    for action in ("acknowledge", "close"):
        response = client.post(f"/v2/alerts/a/{action}?identifierType=alias", b"", content_type="application/json",
                               HTTP_AUTHORIZATION=f"GenieKey {genie.key}")
        assert response.status_code == 202, response.content

    assert Incident.objects.get().status == "resolved"


def test_an_alert_created_without_alias_is_closed_by_the_id_vigil_answered(client, genie):
    request_id = create(client, genie.key).json()["requestId"]
    create(client, genie.key)  # another one: no alias, no dedup
    assert Incident.objects.count() == 2
    incident = Alert.objects.get(dedup_key=request_id).incident

    # identifierType=id is Opsgenie's default, so it may be left out.
    assert post(client, f"/v2/alerts/{request_id}/close", {}, genie.key).status_code == 202

    assert Incident.objects.get(pk=incident.pk).status == "resolved"
    assert Incident.objects.exclude(pk=incident.pk).get().status == "triggered"


def test_closing_an_alias_with_no_open_incident_is_accepted_and_does_nothing(client, genie):
    response = post(client, "/v2/alerts/never-sent/close", {}, genie.key, identifierType="alias")

    assert response.status_code == 202  # Opsgenie, too, accepts it (and fails it later, in its logs)
    assert not Incident.objects.exists()


@pytest.mark.parametrize(("identifier", "query", "words"), [
    ("abc123", {"identifierType": "tiny"}, "tiny is not supported"),
    ("checkout-5xx", {"identifierType": "id"}, "is not an id Vigil gave"),
    ("checkout-5xx", {}, "is not an id Vigil gave"),  # id is the default
    ("checkout-5xx", {"identifierType": "name"}, "must be one of id, alias, tiny"),
])
def test_an_identifier_vigil_cannot_resolve_is_422_naming_identifier_type(client, genie, identifier, query, words):
    create(client, genie.key, alias="checkout-5xx")

    response = post(client, f"/v2/alerts/{identifier}/close", {}, genie.key, **query)

    body = assert_opsgenie_shape(response, 422)
    assert list(body["errors"]) == ["identifierType"]
    assert words in body["message"] and words in body["errors"]["identifierType"]
    assert Incident.objects.get().status == "triggered"


# --- Refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field", "words"), [
    ({"alias": "a"}, "message", "'message' is missing"),
    ({"message": "   "}, "message", "'message' must not be empty"),
    ({"message": "x" * 131}, "message", "longer than 130 characters"),
    ({"message": "m", "alias": "a" * 513}, "alias", "longer than 512 characters"),
    ({"message": "m", "priority": "P6"}, "priority", "must be one of P1, P2, P3, P4, P5"),
    ({"message": "m", "priority": "high"}, "priority", "must be one of P1, P2, P3, P4, P5"),
    ({"message": "m", "details": ["a"]}, "details", "must be an object"),
    ({"message": "m", "tags": "a,b"}, "tags", "must be a list of strings"),
    ({"message": "m", "description": 5}, "description", "must be a string"),
    (["message"], "body", "must be a JSON object"),
])
def test_a_bad_body_is_422_naming_the_field(client, genie, body, field, words):
    response = post(client, "/v2/alerts", body, genie.key)

    body = assert_opsgenie_shape(response, 422)
    assert field in body["errors"] and words in body["errors"][field]
    assert body["message"].startswith("Request body is not processable: ") and words in body["message"]
    assert not Alert.objects.exists()


def test_malformed_json_is_400(client, genie):
    body = assert_opsgenie_shape(post(client, "/v2/alerts", b"{", genie.key), 400)

    assert "not valid JSON" in body["message"]


@pytest.mark.parametrize("authorization", [
    None, "", "GenieKey", "GenieKey not-a-key-of-vigil", "GenieKey " + "0" * 32, "GenieKey " + "a" * 5000,
    "GenieKey \u0000", "Bearer {key}", "{key}",
])
def test_no_or_a_wrong_key_is_401(client, genie, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization.format(key=genie.key)}
    for path in ("/v2/alerts", "/v2/alerts/a/close?identifierType=alias", "/v2/alerts/a/acknowledge"):
        response = client.post(path, json.dumps({"message": "m", "alias": "a"}), content_type="application/json",
                               **headers)
        body = assert_opsgenie_shape(response, 401)
        assert "GenieKey" in body["message"]
    assert not Alert.objects.exists()


def test_the_key_of_another_kind_or_a_disabled_integration_is_403(client, genie, events, alice):
    body = assert_opsgenie_shape(create(client, events.key, alias="a"), 403)
    assert "events_v2 integration" in body["message"]

    update_integration(integration=genie, by=alice, enabled=False)
    body = assert_opsgenie_shape(create(client, genie.key, alias="a"), 403)
    assert "disabled" in body["message"]
    assert not Alert.objects.exists()


def test_over_the_rate_limit_is_429_with_retry_after(client, genie, alice):
    update_integration(integration=genie, by=alice, burst=1, rate_per_second=1)

    assert create(client, genie.key, alias="a").status_code == 202
    response = create(client, genie.key, alias="a")

    assert_opsgenie_shape(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_only_post_is_allowed(client, genie):
    response = client.get("/v2/alerts", HTTP_AUTHORIZATION=f"GenieKey {genie.key}")

    assert response.status_code == 405 and response["Allow"] == "POST"


def test_the_integration_api_creates_an_opsgenie_integration_with_its_endpoint(api, alice, checkout):
    api.force_authenticate(alice)
    response = api.post("/api/v1/integrations/", {"service": "checkout", "kind": "opsgenie", "name": "Grafana"},
                        format="json")

    assert response.status_code == 201, response.content
    assert response.json()["endpoint"].endswith("/v2/alerts")
    assert len(response.json()["key"]) == 32


# --- Debian's Prometheus Alertmanager, opsgenie_configs ------------------------------------------



@pytest.mark.process  # a live server and Alertmanager
@needs_alertmanager
@pytest.mark.django_db(transaction=True)
def test_alertmanager_opsgenie_config_opens_and_resolves_an_incident(transactional_db, live_server,
                                                                     alertmanager, checkout, alice):  # noqa: F811
    # transactional_db first, so that it is torn down last: Alertmanager stops before the database is
    # emptied, and no late notification of its reaches a half-flushed database.
    ensure_severities()  # a transactional test starts from the flushed database
    integration, key = create_integration(service=checkout, kind="opsgenie", name="Alertmanager", by=alice)
    config = yaml.safe_load(readme_block("Prometheus Alertmanager — `opsgenie_configs`"))
    receiver = config["receivers"][0]["opsgenie_configs"][0]
    receiver["api_url"] = f"{live_server.url}/"
    receiver["api_key"] = key
    manager = alertmanager(config)

    labels = {"alertname": "CheckoutErrors", "job": "checkout", "severity": "critical", "instance": "web-1"}
    manager.post(labels, {"summary": "Checkout 5xx above 5%"})
    incident = wait_until(lambda: incident_of(integration), "Alertmanager's Opsgenie create", log=manager.log_text)
    alert = Alert.objects.get(integration=integration)
    assert incident.status == "triggered"
    assert incident.severity.name == "SEV1"  # the receiver's priority template: critical → P1
    assert "CheckoutErrors" in incident.title  # Alertmanager's default message: [FIRING:1] CheckoutErrors checkout …
    assert len(alert.dedup_key) == 64  # the alias: Alertmanager's hash of the group key
    assert alert.details["alertname"] == "CheckoutErrors"  # the common labels, as Alertmanager sends them
    assert alert.annotations["tags"] == ["CheckoutErrors", "checkout"]
    assert "Checkout 5xx above 5%" in alert.annotations["description"]

    manager.post(labels, {"summary": "Checkout 5xx above 5%"}, resolved=True)
    wait_until(lambda: stored(lambda: Incident.objects.get(pk=incident.pk).status == "resolved"),
               "Alertmanager's Opsgenie close (v2/alerts/<alias>/close?identifierType=alias)", log=manager.log_text)
    wait_until(lambda: stored(lambda: Alert.objects.get(integration=integration).status == "resolved"),
               "the close to resolve the alert too")
