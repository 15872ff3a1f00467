"""Race safety on PostgreSQL: 20 concurrent triggers with one dedup key make exactly one incident."""

import json

import pytest
from django.test import Client

from alerts.models import Alert, AlertGroup
from alerts.services import AlertEvent, create_integration, ingest_event
from incidents.models import Incident
from tests.concurrency import run_in_threads
from tests.factories import ensure_severities

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


@pytest.fixture
def severities(db):
    # A transactional test empties every table when it ends, severities (seeded by a
    # migration) included; put them back the way the migration does.
    ensure_severities()


def run_concurrently(work):
    results, errors = run_in_threads(THREADS, work)
    assert errors == [None] * THREADS
    return results


def assert_one_incident():
    incident = Incident.objects.get()
    assert incident.alert_count == THREADS
    assert Alert.objects.filter(incident=incident).count() == THREADS
    assert AlertGroup.objects.filter(closed_at__isnull=True).count() == 1
    assert incident.number.endswith("-0001")  # the losers gave their numbers back
    return incident


def test_twenty_concurrent_triggers_through_the_service_open_one_incident(on_postgres, severities, checkout, alice):
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)

    outcomes = run_concurrently(lambda i: ingest_event(
        integration=integration,
        event=AlertEvent(action="trigger", dedup_key="db/down", summary=f"DB down #{i}", source="db1"),
    ).result)

    assert sorted(outcomes) == ["deduplicated"] * (THREADS - 1) + ["triggered"]
    assert_one_incident()


def test_twenty_concurrent_http_triggers_open_one_incident(on_postgres, severities, checkout, alice):
    _, key = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    body = json.dumps({"routing_key": key, "event_action": "trigger", "dedup_key": "db/down",
                       "payload": {"summary": "DB down", "source": "db1", "severity": "critical"}})

    codes = run_concurrently(
        lambda i: Client().post("/v2/enqueue", body, content_type="application/json").status_code
    )

    assert codes == [202] * THREADS
    assert assert_one_incident().severity.name == "SEV1"
