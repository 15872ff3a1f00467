"""The per-integration rate limit (alerts.ratelimit): ``burst`` requests per window of burst ÷ rate seconds.

Windows are counted from the integration's creation, so the requests a test
sends right after creating one fall in its first window.
"""

import json
import shutil
import socket
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from multiprocessing import get_context

import pytest

from alerts import ratelimit
from alerts.models import Alert, Integration
from alerts.services import create_integration, rotate_integration_key, update_integration
from tests.net import free_port

pytestmark = pytest.mark.django_db


def trigger(client, key, n=0):
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": f"k{n}",
            "payload": {"summary": "Disk full", "source": "db1", "severity": "error"}}
    return client.post("/v2/enqueue", json.dumps(body), content_type="application/json")


def limited(integration, *, rate, burst) -> Integration:
    return update_integration(integration=integration, by=None, rate_per_second=rate, burst=burst)


def test_integrations_default_to_60_per_second_with_a_burst_of_200(events):
    assert (events.rate_per_second, events.burst) == (60, 200)


def test_over_the_burst_is_answered_429_with_retry_after(client, events):
    limited(events, rate=1, burst=5)  # 5 requests in each window of 5 s

    codes = [trigger(client, events.key, n).status_code for n in range(6)]

    assert codes == [202] * 5 + [429]
    response = trigger(client, events.key, 9)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 5
    assert response.json()["status"] == "throttle event"
    assert Alert.objects.count() == 5


def test_a_window_admits_burst_events_then_refuses_until_the_next_window(events):
    integration = limited(events, rate=2, burst=10)  # windows of 5 s from the creation
    start = integration.created_at

    assert [ratelimit.admit(integration, start + timedelta(seconds=1)) for _ in range(10)] == [None] * 10
    assert ratelimit.admit(integration, start + timedelta(seconds=1)) == 4  # this window ends at 5 s
    assert ratelimit.admit(integration, start + timedelta(seconds=4.5)) == 1
    assert ratelimit.admit(integration, start + timedelta(seconds=5)) is None  # the next window
    assert ratelimit.admit(integration, start + timedelta(seconds=9.9)) is None


def test_limits_are_per_integration(client, events, checkout, alice):
    limited(events, rate=1, burst=3)
    _, other = create_integration(service=checkout, kind="events_v2", name="Other", by=alice)

    assert [trigger(client, events.key, n).status_code for n in range(4)] == [202, 202, 202, 429]
    assert trigger(client, other, 5).status_code == 202


def test_alertmanager_rate_limit_uses_the_api_error_shape(client, am):
    limited(am, rate=1, burst=3)
    body = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X"}, "fingerprint": "f1"}]}

    def post():
        return client.post("/api/v1/integrations/alertmanager/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {am.key}")

    assert [post().status_code for _ in range(3)] == [202] * 3
    response = post()
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "Retry-After" in response


def test_a_lowered_limit_applies_from_the_next_request(client, events, alice):
    assert trigger(client, events.key, 1).status_code == 202  # the default: 200 in 3⅓ s

    update_integration(integration=events, by=alice, rate_per_second=1, burst=3)

    assert [trigger(client, events.key, n).status_code for n in range(2, 6)] == [202, 202, 202, 429]


def test_a_rotated_key_starts_a_fresh_count(client, events, alice):
    limited(events, rate=1, burst=3)
    assert [trigger(client, events.key, n).status_code for n in range(4)] == [202, 202, 202, 429]

    key = rotate_integration_key(integration=events, by=alice)

    assert trigger(client, key, 9).status_code == 202


def test_a_disabled_integration_does_not_spend_its_limit(client, events, alice):
    update_integration(integration=events, by=alice, rate_per_second=1, burst=3, enabled=False)
    assert [trigger(client, events.key, n).status_code for n in range(3)] == [403] * 3

    update_integration(integration=events, by=alice, enabled=True)

    assert [trigger(client, events.key, n).status_code for n in range(4)] == [202, 202, 202, 429]


def test_nothing_of_the_limit_is_written_to_the_integration(client, events, alice):
    limited(events, rate=1, burst=3)
    history = events.history.count()

    for n in range(4):
        trigger(client, events.key, n)

    assert events.history.count() == history  # the integration's row and history are left alone


def test_an_unreachable_cache_lets_events_through(events, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 0.5}}}
    integration = limited(events, rate=1, burst=1)

    assert [ratelimit.admit(integration, integration.created_at) for _ in range(3)] == [None] * 3


# --- exact across processes, with Redis ---------------------------------------------

@pytest.fixture
def redis_cache(settings):
    """Django's cache in Redis: REDIS_URL's (as CI and production run), else a redis-server of our own."""
    if settings.REDIS_URL:
        url, server = settings.REDIS_URL, None
    else:
        command = shutil.which("redis-server")
        if not command:
            pytest.skip("redis-server is not installed, and REDIS_URL is not set")
        port = free_port()
        server = subprocess.Popen([command, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    yield url
    if server is not None:
        server.terminate()
        server.wait(5)


def _admit_many(integration, times):
    """In a worker process: admit ``times`` events at the integration's creation; how many went through."""
    return sum(ratelimit.admit(integration, integration.created_at + timedelta(seconds=1)) is None
               for _ in range(times))


@pytest.mark.process  # forks workers, may start redis-server
def test_the_limit_is_exact_across_processes_with_redis(events, redis_cache):
    integration = limited(events, rate=1, burst=50)  # one window of 50 s

    # Four processes, as four gunicorn workers, race for the same window: 100 attempts, 50 places.
    with ProcessPoolExecutor(4, mp_context=get_context("fork")) as pool:
        admitted = list(pool.map(_admit_many, [integration] * 4, [25] * 4))

    assert sum(admitted) == 50
    assert ratelimit.admit(integration, integration.created_at + timedelta(seconds=1)) is not None
