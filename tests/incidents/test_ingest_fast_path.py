"""The hot path of Events v2: a trigger joining an open incident, and the fused key + bucket + window lookup."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Alert, Incident
from incidents.services import update_integration

pytestmark = pytest.mark.django_db



def trigger(client, key, dedup="db/down", **payload):
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": "DB down", "source": "db1", "severity": "error", **payload},
            "links": [{"href": "https://grafana.example.com/d/db", "text": "DB"}]}
    return client.post("/v2/enqueue", json.dumps(body), content_type="application/json")


def test_a_joining_trigger_stores_every_field_of_its_alert(client, events):
    trigger(client, events.key)
    response = trigger(client, events.key, custom_details={"disk": "97%"}, component="pg", group="db",
                       timestamp="2026-11-20T14:00:00Z", **{"class": "disk"})

    assert response.status_code == 202
    incident = Incident.objects.get()
    alert = Alert.objects.order_by("-id").first()
    assert alert.incident == incident and alert.suppressed_by is None and alert.status == "firing"
    assert (alert.summary, alert.source, alert.severity) == ("DB down", "db1", "error")
    assert (alert.component, alert.group, alert.alert_class) == ("pg", "db", "disk")
    assert alert.details == {"disk": "97%"}
    assert alert.links == [{"href": "https://grafana.example.com/d/db", "text": "DB"}]
    assert alert.started_at == datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert alert.received_at == alert.last_seen_at == incident.last_alert_at
    assert incident.alert_count == 2


def test_a_joining_trigger_is_two_statements_on_postgres(on_postgres, client, events):
    trigger(client, events.key)

    with CaptureQueriesContext(connection) as queries:
        assert trigger(client, events.key).status_code == 202

    # Key + rate-limit token + maintenance window; then incident count + alert insert.
    assert len(queries.captured_queries) == 2
    assert Incident.objects.get().alert_count == 2


def test_a_disabled_integration_does_not_spend_its_tokens(client, events, alice):
    update_integration(integration=events, by=alice, rate_per_second=1, burst=1, enabled=False)
    assert trigger(client, events.key).status_code == 403

    update_integration(integration=events, by=alice, enabled=True)

    assert trigger(client, events.key).status_code == 202
    assert trigger(client, events.key).status_code == 429


def test_the_hot_path_statements_are_prepared_once_and_planned_generically(on_postgres, client, events):
    for _ in range(4):
        assert trigger(client, events.key).status_code == 202

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE %s OR statement LIKE %s",
                       ["%bucket_tokens%", "%INSERT INTO incidents_alert%"])
        prepared = cursor.fetchall()

    # The key + bucket statement and the join, each parsed once on this connection
    # and re-planned never: a custom plan per event cost as much as running it.
    assert len(prepared) == 2
    assert all(generic >= 2 and custom == 0 for _, generic, custom in prepared)
    assert Incident.objects.get().alert_count == 4
