"""Integration management through the API: who may create, keys shown once, foreign ones 404, constant queries."""

import json

import pytest

from alerts.models import Alert, Integration
from alerts.services import AlertEvent, create_integration, ingest_event
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def create(api, user, **body):
    return api.as_user(user).post("/api/v1/integrations/", {"service": "checkout", "kind": "events_v2",
                                                               "name": "Prometheus", **body}, format="json")


def test_lead_creates_an_integration_and_gets_its_key_once(api, alice, checkout, client):
    response = create(api, alice)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["service"] == "checkout" and body["kind"] == "events_v2" and body["name"] == "Prometheus"
    assert len(body["key"]) == 32
    assert body["key"].startswith(body["key_prefix"])
    # The key works...
    event = {"routing_key": body["key"], "event_action": "trigger",
             "payload": {"summary": "x", "source": "y", "severity": "info"}}
    assert client.post("/v2/enqueue", json.dumps(event), content_type="application/json").status_code == 202
    # ...and is never shown again, nor stored in the clear.
    again = api.get(f"/api/v1/integrations/{body['id']}/").json()
    assert "key" not in again
    assert body["key"] not in json.dumps(api.get("/api/v1/integrations/").json())
    assert body["key"] not in json.dumps(list(Integration.objects.values()), default=str)


def test_rate_limit_and_switches_are_set_at_creation(api, alice, checkout):
    body = create(api, alice, rate_per_second=5, burst=10, enabled=False, auto_resolve=False).json()
    assert (body["rate_per_second"], body["burst"], body["enabled"], body["auto_resolve"]) == (5, 10, False, False)


def test_heartbeat_takes_interval_and_grace(api, alice, checkout):
    response = create(api, alice, kind="heartbeat", name="Backups", interval_seconds=3600, grace_seconds=300)
    assert response.status_code == 201
    assert (response.json()["interval_seconds"], response.json()["grace_seconds"]) == (3600, 300)
    assert response.json()["endpoint"].endswith(f"/api/v1/heartbeats/{response.json()['key']}/")


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "carrier-pigeon"}, "kind"),
    ({"kind": "heartbeat"}, "interval_seconds"),
    ({"severity_map": {"critical": "SEV9"}}, "severity_map"),
    ({"severity_map": {"fatal": "SEV1"}}, "severity_map"),
    ({"severity_map": {"critical": ["SEV1"]}}, "severity_map"),
    ({"severity_map": {"critical": {"name": "SEV1"}}}, "severity_map"),
    ({"kind": "webhook", "interval_seconds": 60}, "interval_seconds"),
    ({"name": ""}, "name"),
    ({"colour": "red"}, "colour"),
    ({"rate_per_second": 0}, "rate_per_second"),
    ({"burst": "lots"}, "burst"),
])
def test_bad_integration_input_is_400_naming_the_field(api, alice, checkout, body, field):
    response = create(api, alice, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Integration.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"severity_map": {"critical": ["SEV1"]}}, "severity_map"),
    ({"interval_seconds": None}, "interval_seconds"),
    ({"interval_seconds": 0}, "interval_seconds"),
])
def test_bad_heartbeat_changes_are_400_and_change_nothing(api, alice, checkout, body, field):
    created = create(api, alice, kind="heartbeat", name="Backups", interval_seconds=3600).json()

    response = api.as_user(alice).patch(f"/api/v1/integrations/{created['id']}/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    integration = Integration.objects.get()
    assert (integration.interval_seconds, integration.severity_map) == (3600, {})


def test_member_may_see_but_not_create(api, bob, alice, checkout):
    create(api, alice)
    assert create(api, bob).status_code == 403
    assert api.as_user(bob).get("/api/v1/integrations/").json()["count"] == 1


def test_outsider_sees_nothing_and_gets_404(api, alice, charlie, checkout):
    integration_id = create(api, alice).json()["id"]
    outsider = api.as_user(charlie)
    assert outsider.get("/api/v1/integrations/").json()["count"] == 0
    assert outsider.get(f"/api/v1/integrations/{integration_id}/").status_code == 404
    assert outsider.patch(f"/api/v1/integrations/{integration_id}/", {"enabled": False}, format="json").status_code == 404
    assert outsider.post(f"/api/v1/integrations/{integration_id}/rotate-key/").status_code == 404
    # A foreign service cannot be named in a create.
    response = outsider.post("/api/v1/integrations/", {"service": "checkout", "kind": "webhook", "name": "x"},
                             format="json")
    assert response.status_code == 400 and "service" in response.json()


def test_rotating_the_key_stops_the_old_one(api, alice, checkout, client):
    first = create(api, alice, kind="webhook", name="Hook").json()
    rotated = api.as_user(alice).post(f"/api/v1/integrations/{first['id']}/rotate-key/")
    assert rotated.status_code == 200
    new_key = rotated.json()["key"]
    assert new_key != first["key"]
    old = client.post(f"/api/v1/integrations/webhook/{first['key']}/", json.dumps({"title": "x"}),
                      content_type="application/json")
    new = client.post(f"/api/v1/integrations/webhook/{new_key}/", json.dumps({"title": "x"}),
                      content_type="application/json")
    assert (old.status_code, new.status_code) == (404, 202)


def test_lead_disables_through_patch_and_member_may_not(api, alice, bob, checkout):
    integration_id = create(api, alice).json()["id"]
    assert api.as_user(bob).patch(f"/api/v1/integrations/{integration_id}/", {"enabled": False},
                                  format="json").status_code == 403
    response = api.as_user(alice).patch(f"/api/v1/integrations/{integration_id}/", {"enabled": False},
                                        format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False


def test_staff_may_create_for_any_team(api, sam, checkout):
    assert create(api, sam).status_code == 201


def _seed(checkout, alice, n):
    for i in range(n):
        integration, _ = create_integration(service=ServiceFactory(team=checkout.team), kind="events_v2",
                                            name=f"I{i}", by=alice)
        ingest_event(integration=integration, event=AlertEvent(action="trigger", dedup_key=f"k{i}", summary="s"))


def test_integration_and_alert_lists_take_a_constant_number_of_queries(
        api, alice, checkout, django_assert_max_num_queries):
    client = api.as_user(alice)
    _seed(checkout, alice, 2)
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/integrations/")
        client.get("/api/v1/alerts/")
    _seed(checkout, alice, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/integrations/").json()["count"] == 12
        assert client.get("/api/v1/alerts/").json()["count"] == 12


def test_alert_list_filters_by_service_and_incident(api, alice, checkout):
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    outcome = ingest_event(integration=integration, event=AlertEvent(action="trigger", dedup_key="k", summary="s"))
    body = api.as_user(alice).get(f"/api/v1/alerts/?incident={outcome.incident.number}").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["service"], row["integration"], row["incident"], row["status"]) == (
        "checkout", {"id": integration.pk, "name": "PD", "kind": "events_v2"}, outcome.incident.number, "firing")
    assert api.get("/api/v1/alerts/?service=elsewhere").json()["count"] == 0
    assert api.get(f"/api/v1/alerts/?integration={integration.pk}").json()["count"] == 1
    assert api.get(f"/api/v1/alerts/?integration={integration.pk + 1}").json()["count"] == 0
    assert api.get("/api/v1/alerts/?integration=PD").json()["count"] == 0
    assert api.get("/api/v1/alerts/?integration=²").json()["count"] == 0
    assert Alert.objects.count() == 1
