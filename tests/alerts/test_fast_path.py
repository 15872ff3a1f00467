"""The hot path of Events v2: a trigger joining an open incident, and the fused key + bucket + window lookup."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, Integration
from alerts.services import update_integration
from incidents.models import Incident

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


def test_a_joining_trigger_is_one_statement_while_the_process_holds_leased_tokens(on_postgres, client, events,
                                                                                    settings):
    settings.REDIS_URL = ""  # the token bucket in the integration row
    # 60/s: an admission takes a tenth of a second's worth, 6 tokens: 1 for its event, 5 leased.
    assert trigger(client, events.key).status_code == 202

    counts = []
    for _ in range(6):
        with CaptureQueriesContext(connection) as queries:
            assert trigger(client, events.key).status_code == 202
        counts.append(len(queries.captured_queries))

    # Leased: incident count + alert insert, re-checking key, integration and window.
    # Then key + tokens + window; then the join.
    assert counts == [1, 1, 1, 1, 1, 2]
    assert Incident.objects.get().alert_count == 7
    assert Integration.objects.get(pk=events.pk).bucket_lease == 6


def test_a_disabled_integration_does_not_spend_its_tokens(client, events, alice):
    update_integration(integration=events, by=alice, rate_per_second=1, burst=1, enabled=False)
    assert trigger(client, events.key).status_code == 403

    update_integration(integration=events, by=alice, enabled=True)

    assert trigger(client, events.key).status_code == 202
    assert trigger(client, events.key).status_code == 429


def test_the_hot_path_statements_are_prepared_once_and_planned_generically(on_postgres, client, events, settings):
    settings.REDIS_URL = ""  # the token bucket in the integration row, in the key's statement
    update_integration(integration=events, by=None, rate_per_second=5)  # under 10/s: no leases, a token per event
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


def _row(model, pk_field, pk, skip):
    row = model.objects.filter(**{pk_field: pk}).values().get()
    return {name: value for name, value in row.items() if name not in skip}


def test_a_new_key_opens_the_same_rows_in_one_statement_as_through_the_orm(on_postgres, events, checkout):
    """The one-statement path (new key, PostgreSQL) writes what the ORM path writes, field for field."""
    from alerts.services import AlertEvent, ingest_event, ingest_events

    update_integration(integration=events, by=None, severity_map={"warning": "SEV2"})
    events = Integration.objects.get(pk=events.pk)  # as the endpoint loads it
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

    def event(key):
        return AlertEvent(action="trigger", dedup_key=key, summary="Disk 97% on db1", severity="warning",
                          source="db1", details={"disk": "97%"}, started_at=datetime(2026, 11, 23, 9, tzinfo=UTC))

    with CaptureQueriesContext(connection) as fast_queries:
        fast = ingest_event(integration=events, event=event("fast"), now=now, window_id=None).incident
    orm = ingest_events(integration=events, events=[event("orm")], now=now, window_id=None)[0].incident

    # Key + token are the endpoint's; here: the join that finds nothing, then the one statement.
    assert len(fast_queries.captured_queries) == 2
    differ = {"id", "number", "sequence"}
    assert _row(Incident, "pk", fast.pk, differ) == _row(Incident, "pk", orm.pk, differ)
    assert fast.number == f"INC-2026-{fast.sequence:04d}" and orm.sequence == fast.sequence + 1
    history = Incident.history.model
    differ |= {"history_id", "history_date"}  # the ORM stamps the wall clock, this the event's time
    assert _row(history, "id", fast.pk, differ) == _row(history, "id", orm.pk, differ)
    created = history.objects.get(id=fast.pk)
    assert (created.number, created.history_date, created.history_type) == (fast.number, now, "+")
    assert list(fast.services.all()) == list(orm.services.all()) == [checkout]
    assert fast.severity.name == "SEV2" and fast.alert_count == 1
    differ = {"id", "incident_id", "dedup_key"}
    assert _row(Alert, "incident", fast.pk, differ) == _row(Alert, "incident", orm.pk, differ)
    group = fast.alert_groups.get()
    assert (group.dedup_key, group.closed_at, group.created_at) == ("fast", None, now)


def test_a_receiver_failing_on_a_new_alert_incident_stores_nothing(on_postgres, client, events):
    from incidents import signals

    def refuse(**kwargs):
        raise RuntimeError("listener failed")

    signals.incident_created.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            trigger(client, events.key, dedup="refused")
    finally:
        signals.incident_created.disconnect(refuse)

    assert not Incident.objects.exists() and not Alert.objects.exists()
    assert not events.groups.exists()
    assert trigger(client, events.key, dedup="refused").status_code == 202
    assert Incident.objects.get().number.endswith("-0001")
