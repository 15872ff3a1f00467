"""Protection: per-integration token bucket (429 + Retry-After), 413 over 512 KiB, nothing half-stored."""

import json
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime

import pytest

from alerts import ratelimit
from alerts.models import Alert, Integration
from alerts.services import create_integration, update_integration
from incidents.models import Incident
from tests.net import free_port

pytestmark = pytest.mark.django_db



def trigger(client, key, n=0):
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": f"k{n}",
            "payload": {"summary": "Disk full", "source": "db1", "severity": "error"}}
    return client.post("/v2/enqueue", json.dumps(body), content_type="application/json")


def test_integrations_default_to_60_per_second_with_a_burst_of_200(events):
    assert (events.rate_per_second, events.burst) == (60, 200)


def test_over_the_burst_is_answered_429_with_retry_after(client, events, alice):
    update_integration(integration=events, by=alice, rate_per_second=1, burst=2)

    codes = [trigger(client, events.key, n).status_code for n in range(3)]

    assert codes == [202, 202, 429]
    response = trigger(client, events.key, 9)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["status"] == "throttle event"
    assert Alert.objects.count() == 2


def test_limits_are_per_integration(client, events, checkout, alice):
    update_integration(integration=events, by=alice, rate_per_second=1, burst=1)
    _, other = create_integration(service=checkout, kind="events_v2", name="Other", by=alice)
    assert trigger(client, events.key, 1).status_code == 202
    assert trigger(client, events.key, 2).status_code == 429
    assert trigger(client, other, 3).status_code == 202


def test_alertmanager_rate_limit_uses_the_api_error_shape(client, checkout, alice):
    integration, key = create_integration(service=checkout, kind="alertmanager", name="AM", by=alice)
    update_integration(integration=integration, by=alice, rate_per_second=1, burst=1)
    body = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X"}, "fingerprint": "f1"}]}
    post = lambda: client.post("/api/v1/integrations/alertmanager/", json.dumps(body),  # noqa: E731
                               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert post().status_code == 202
    response = post()
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "Retry-After" in response


def test_database_token_bucket_refills_at_the_rate_up_to_the_burst(events, alice):
    integration = update_integration(integration=events, by=alice, rate_per_second=1, burst=3)
    t = 1_000_000.0
    assert [ratelimit.take(integration, now=t, backend="db") for _ in range(3)] == [None, None, None]
    assert ratelimit.take(integration, now=t, backend="db") == 1  # one token comes back in 1 s
    assert ratelimit.take(integration, now=t + 1, backend="db") is None
    # A long quiet spell refills only up to the burst.
    assert [ratelimit.take(integration, now=t + 1000, backend="db") for _ in range(4)] == [None, None, None, 1]


@pytest.fixture
def redis_url(settings):
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed")
    port = free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    settings.REDIS_URL = url
    ratelimit._script = None
    yield url
    ratelimit._script = None
    proc.terminate()
    proc.wait(5)


def test_redis_token_bucket_behaves_like_the_database_one(events, alice, redis_url):
    integration = update_integration(integration=events, by=alice, rate_per_second=1, burst=3)
    t = 1_000_000.0
    assert [ratelimit.take(integration, now=t) for _ in range(3)] == [None, None, None]
    assert ratelimit.take(integration, now=t) == 1
    assert ratelimit.take(integration, now=t + 1) is None
    assert [ratelimit.take(integration, now=t + 1000) for _ in range(4)] == [None, None, None, 1]
    # Nothing was written to the row: the bucket lives in Redis.
    assert Integration.objects.get(pk=integration.pk).bucket_at is None


def test_redis_bucket_leases_tokens_like_the_database_one(on_postgres, events, alice, redis_url):
    update_integration(integration=events, by=alice, rate_per_second=100, burst=10)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)

    first = ratelimit.admit(events.key, kind="events_v2", now=now, tokens="lease")
    spent = [ratelimit.spend_lease(events.key) for _ in range(10)]
    again = ratelimit.admit(events.key, kind="events_v2", now=now, tokens="lease")

    # One token for the admitted event, nine leased to this process, then none left.
    assert first.retry_after is None and [s is not None for s in spent] == [True] * 9 + [False]
    assert again.retry_after == 1
    assert Integration.objects.get(pk=events.pk).bucket_at is None  # the bucket lives in Redis


def test_unreachable_redis_lets_events_through(events, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._script = None
    try:
        assert ratelimit.take(events) is None
    finally:
        ratelimit._script = None


@pytest.mark.parametrize("url_kind", ["events", "alertmanager", "webhook"])
def test_bodies_over_512_kib_are_refused_with_413(client, checkout, alice, url_kind):
    kind = {"events": "events_v2", "alertmanager": "alertmanager", "webhook": "webhook"}[url_kind]
    _, key = create_integration(service=checkout, kind=kind, name="Big", by=alice)
    url = {"events": "/api/v1/events/", "alertmanager": "/api/v1/integrations/alertmanager/",
           "webhook": f"/api/v1/integrations/webhook/{key}/"}[url_kind]
    body = json.dumps({"routing_key": key, "title": "x", "pad": "x" * (512 * 1024)})
    response = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 413
    assert not Alert.objects.exists()


def test_a_body_of_exactly_512_kib_is_read(client, events):
    body = {"routing_key": events.key, "event_action": "trigger", "dedup_key": "big",
            "payload": {"summary": "Big", "source": "x", "severity": "info", "custom_details": {"pad": ""}}}
    pad = 512 * 1024 - len(json.dumps(body))
    body["payload"]["custom_details"]["pad"] = "x" * pad
    raw = json.dumps(body)
    assert len(raw) == 512 * 1024
    assert client.post("/api/v1/events/", raw, content_type="application/json").status_code == 202


def test_one_bad_alert_in_a_notification_stores_none_of_them(client, checkout, alice):
    _, key = create_integration(service=checkout, kind="alertmanager", name="AM", by=alice)
    good = {"status": "firing", "labels": {"alertname": "A"}, "fingerprint": "a"}
    bad = {"status": "firing", "labels": {"alertname": "B"}}  # no fingerprint
    body = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [good, bad]}
    response = client.post("/api/v1/integrations/alertmanager/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert not Alert.objects.exists() and not Incident.objects.exists()
