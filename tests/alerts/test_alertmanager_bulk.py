"""An Alertmanager notification of N alerts is stored in bulk: the same number of queries for 5 alerts as for 50."""

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from alerts.services import create_integration
from incidents.models import Incident

pytestmark = pytest.mark.django_db

URL = "/api/v1/integrations/alertmanager/"
STARTED = datetime(2026, 11, 20, 14, tzinfo=UTC)


def notification(n: int, status: str = "firing", summary: str = "Disk full") -> dict:
    """One group of ``n`` alerts, as Alertmanager sends it; resolved alerts each end at their own time."""
    def alert(i):
        ends = (STARTED + timedelta(minutes=10, seconds=i)).isoformat() if status == "resolved" \
            else "0001-01-01T00:00:00Z"
        return {"status": status, "fingerprint": f"fp-{i:04d}", "startsAt": STARTED.isoformat(), "endsAt": ends,
                "labels": {"alertname": "DiskFull", "instance": f"db-{i}", "severity": "warning"},
                "annotations": {"summary": f"{summary} on db-{i}"},
                "generatorURL": "http://prometheus.example.com:9090/graph"}

    return {"version": "4", "groupKey": '{}:{alertname="DiskFull"}', "status": status, "receiver": "vigil",
            "groupLabels": {"alertname": "DiskFull"}, "commonLabels": {"alertname": "DiskFull"},
            "alerts": [alert(i) for i in range(n)]}


def post(client, key, body):
    return client.post(URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def queries_of(client, key, body) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = post(client, key, body)
    assert response.status_code == 202, response.content
    return len(captured.captured_queries)


def insert_statements(n: int) -> int:
    """Statements Django's ``bulk_create`` needs for ``n`` alerts: one on PostgreSQL; on SQLite, Django
    cuts inserts into batches of at most 999 parameters (about 43 alerts each)."""
    fields = [f for f in Alert._meta.concrete_fields if not f.primary_key]
    return math.ceil(n / connection.ops.bulk_batch_size(fields, [None] * n))


@pytest.fixture
def integrations(checkout, alice):
    """Two Alertmanager integrations, so each size starts from nothing."""
    return [create_integration(service=checkout, kind="alertmanager", name=f"AM {n}", by=alice)[1] for n in (5, 50)]


def test_a_notification_costs_the_same_queries_for_5_alerts_as_for_50(client, integrations):
    counts = {}
    for key, n in zip(integrations, (5, 50), strict=True):
        counts[n] = (
            queries_of(client, key, notification(n)) - insert_statements(n),  # opens the incident
            queries_of(client, key, notification(n)),  # the same alerts again: refreshed
            queries_of(client, key, notification(n, summary="Disk still full")),  # changed annotations
            queries_of(client, key, notification(n, status="resolved")),  # resolves them, then the incident
        )

    assert counts[5] == counts[50]
    assert Incident.objects.filter(status="resolved", alert_count=50).exists()


def test_new_fingerprints_joining_an_open_group_cost_the_same_for_5_as_for_50(client, integrations):
    counts = {}
    for key, n in zip(integrations, (5, 50), strict=True):
        post(client, key, notification(1))
        body = notification(n + 1)  # the first alert again, and n new ones
        counts[n] = queries_of(client, key, body) - insert_statements(n)

    assert counts[5] == counts[50]
    assert sorted(Incident.objects.values_list("alert_count", flat=True)) == [6, 51]


def test_a_large_notification_stores_every_alert_once(client, am):
    assert post(client, am.key, notification(50)).status_code == 202
    first_seen = Alert.objects.get(dedup_key="fp-0007").last_seen_at

    response = post(client, am.key, notification(50, summary="Disk still full"))

    assert response.json()["alerts"] == 50
    incident = Incident.objects.get()
    assert incident.alert_count == 50 and Alert.objects.filter(incident=incident).count() == 50
    alert = Alert.objects.get(dedup_key="fp-0007")
    assert alert.summary == "Disk still full on db-7" and alert.last_seen_at >= first_seen
    assert alert.started_at == STARTED


def test_a_resolved_notification_resolves_each_alert_at_its_own_end(client, am):
    post(client, am.key, notification(50))

    post(client, am.key, notification(50, status="resolved"))

    assert Incident.objects.get().status == "resolved"
    ends = dict(Alert.objects.values_list("dedup_key", "resolved_at"))
    assert ends["fp-0000"] == STARTED + timedelta(minutes=10)
    assert ends["fp-0049"] == STARTED + timedelta(minutes=10, seconds=49)
    assert not Alert.objects.filter(status="firing").exists()


def test_a_fingerprint_twice_in_one_notification_is_one_alert(client, am):
    body = notification(2)
    body["alerts"].append({**body["alerts"][0], "annotations": {"summary": "Disk full on db-0, again"}})

    assert post(client, am.key, body).status_code == 202

    assert Alert.objects.count() == 2 and Incident.objects.get().alert_count == 2
    assert Alert.objects.get(dedup_key="fp-0000").summary == "Disk full on db-0, again"
