"""Leased tokens (PostgreSQL, database bucket): fewer statements per event, the same limit and the same checks."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import ratelimit
from alerts.models import Alert, Integration
from alerts.services import update_integration
from incidents.models import Incident
from incidents.services import create_maintenance_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def leasing(on_postgres, settings):
    settings.REDIS_URL = ""  # the token bucket in the integration row


def trigger(client, key, dedup="db/down"):
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": "DB down", "source": "db1", "severity": "error"}}
    return client.post("/v2/enqueue", json.dumps(body), content_type="application/json")


def test_a_lease_never_lets_through_more_than_the_bucket_holds(leasing, events):
    update_integration(integration=events, by=None, rate_per_second=100, burst=10)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)

    first = ratelimit.admit(events.key, kind="events_v2", now=now, tokens="lease")
    spent = [ratelimit.spend_lease(events.key) for _ in range(10)]
    again = ratelimit.admit(events.key, kind="events_v2", now=now, tokens="lease")

    # A tenth of a second's worth at 100/s is the whole burst of 10: one for the
    # admitted event, nine leased, then nothing until the bucket refills.
    assert first.retry_after is None
    assert spent[:9] == [(events.pk, spent[0][1])] * 9 and spent[9] is None
    assert again.retry_after == 1
    later = ratelimit.admit(events.key, kind="events_v2", now=now + timedelta(seconds=0.055), tokens="lease")
    assert later.retry_after is None and Integration.objects.get(pk=events.pk).bucket_lease == 5  # 5.5 refilled


def test_a_slow_integration_takes_one_token_per_event(leasing, events):
    update_integration(integration=events, by=None, rate_per_second=5, burst=200)

    ratelimit.admit(events.key, kind="events_v2", now=datetime(2026, 11, 23, 12, tzinfo=UTC), tokens="lease")

    assert ratelimit.spend_lease(events.key) is None


def test_leased_tokens_expire(leasing, events, monkeypatch):
    ratelimit.admit(events.key, kind="events_v2", now=datetime(2026, 11, 23, 12, tzinfo=UTC), tokens="lease")
    assert ratelimit.spend_lease(events.key) is not None

    monkeypatch.setattr(ratelimit, "LEASE_SECONDS", 0)
    ratelimit.admit(events.key, kind="events_v2", now=datetime(2026, 11, 23, 12, tzinfo=UTC), tokens="lease")

    assert ratelimit.spend_lease(events.key) is None


def test_changing_the_limit_drops_the_leases_of_this_process(leasing, client, events, alice):
    assert trigger(client, events.key).status_code == 202  # leases 5 tokens

    update_integration(integration=events, by=alice, rate_per_second=1, burst=1)

    assert [trigger(client, events.key).status_code for _ in range(2)] == [202, 429]


def test_an_integration_disabled_by_another_process_refuses_despite_a_lease(leasing, client, events):
    assert trigger(client, events.key).status_code == 202
    Integration.objects.filter(pk=events.pk).update(enabled=False)  # no lease of ours is dropped

    response = trigger(client, events.key)

    assert response.status_code == 403
    assert Incident.objects.get().alert_count == 1


def test_a_key_rotated_by_another_process_is_refused_despite_a_lease(leasing, client, events):
    assert trigger(client, events.key).status_code == 202
    Integration.objects.filter(pk=events.pk).update(key_hash="0" * 64)

    response = trigger(client, events.key)

    assert response.status_code == 400
    assert response.json()["errors"] == ["Invalid routing key"]
    assert Alert.objects.count() == 1


def test_a_maintenance_window_suppresses_despite_a_lease(leasing, client, events, checkout, alice):
    assert trigger(client, events.key).status_code == 202
    now = datetime.now(UTC)
    create_maintenance_window(service=checkout, by=alice, starts_at=now - timedelta(minutes=1),
                              ends_at=now + timedelta(hours=1), reason="Failover drill")

    assert trigger(client, events.key).status_code == 202

    assert Incident.objects.get().alert_count == 1
    suppressed = Alert.objects.order_by("-id").first()
    assert suppressed.incident is None and suppressed.suppressed_by is not None


def test_a_new_key_after_a_lease_opens_its_incident(leasing, client, events):
    assert trigger(client, events.key, dedup="first").status_code == 202

    assert trigger(client, events.key, dedup="second").status_code == 202

    assert sorted(Incident.objects.values_list("alert_count", flat=True)) == [1, 1]
    assert Integration.objects.get(pk=events.pk).bucket_lease == 6  # the second spent a leased token


# --- the generic webhook leases too ---------------------------------------------------

def post_hook(client, key, body):
    return client.post(f"/api/v1/integrations/webhook/{key}/", json.dumps(body), content_type="application/json")


def test_a_webhook_trigger_joins_in_one_statement_while_the_process_holds_leased_tokens(leasing, client, hook):
    firing = {"title": "Nightly export failed", "dedup_key": "export"}
    first = post_hook(client, hook.key, firing)
    assert first.status_code == 202

    counts, replies = [], []
    for _ in range(6):
        with CaptureQueriesContext(connection) as queries:
            replies.append(post_hook(client, hook.key, firing))
        counts.append(len(queries.captured_queries))

    assert counts == [1, 1, 1, 1, 1, 2]  # five leased tokens, then admission (taking a new lease) + join
    incident = Incident.objects.get()
    assert incident.alert_count == 7
    assert {reply.json()["incident"] for reply in replies} == {first.json()["incident"]} == {incident.number}


def test_a_leased_webhook_resolve_and_bad_body_take_the_full_path(leasing, client, hook):
    assert post_hook(client, hook.key, {"title": "Export failed", "dedup_key": "export"}).status_code == 202

    bad = post_hook(client, hook.key, {"title": "Export failed", "colour": "red"})
    resolved = post_hook(client, hook.key, {"dedup_key": "export", "status": "resolved"})

    assert bad.status_code == 400 and "colour" in bad.json()["detail"]
    assert resolved.status_code == 202
    assert Incident.objects.get().status == "resolved"
    assert Alert.objects.count() == 1


def test_a_webhook_integration_disabled_by_another_process_refuses_despite_a_lease(leasing, client, hook):
    assert post_hook(client, hook.key, {"title": "Export failed", "dedup_key": "export"}).status_code == 202
    Integration.objects.filter(pk=hook.pk).update(enabled=False)  # no lease of ours is dropped

    response = post_hook(client, hook.key, {"title": "Export failed", "dedup_key": "export"})

    assert response.status_code == 403
    assert Incident.objects.get().alert_count == 1
