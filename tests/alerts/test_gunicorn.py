"""The production command, run: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Gunicorn without a configuration serves with one synchronous worker. The
README's command uses Vigil's file instead, which starts several workers. The
tests start that command against the test database and check two things:
- it serves alerts;
- ``/metrics`` counts every worker's events, whichever worker answers the scrape.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from alerts.models import Alert
from tests.factories import ensure_severities
from tests.net import free_port

pytestmark = pytest.mark.process  # starts gunicorn

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
TOKEN = "metrics-token-for-the-gunicorn-test"
COUNTED = re.compile(r'^vigil_events_received_total\{[^}]*kind="events_v2"[^}]*\} (\S+)$', re.M)


def _env(**extra) -> dict:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY")}
    env.update({
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0", "SECRET_KEY": "gunicorn-test-secret-key-0123456789abcdef0123456789abcdef",
        "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1", "METRICS_TOKEN": TOKEN,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    })
    env.update(extra)
    return env


def _request(port, method, path, body=None, headers=None):
    """One request on a new connection, so that any worker may take it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def production_server(transactional_db, on_postgres, tmp_path):
    """The README's gunicorn command with two workers, on a free port; yields (port, its metrics directory)."""
    ensure_severities()
    port = free_port()
    before = set(_metrics_dirs())
    # As the README's production steps: static files collected first (with DEBUG=0 Vigil refuses to start without).
    env = _env(STATIC_ROOT=str(tmp_path / "static"))
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,  # noqa: S603
                   check=True, timeout=120)
    command = [GUNICORN, "-c", "config/gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "config.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,  # noqa: S603 - our command
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            server.kill()
            pytest.fail(f"gunicorn did not come up: {server.communicate()[0][-3000:]}")
        (metrics_dir,) = set(_metrics_dirs()) - before
        yield port, metrics_dir
        server.send_signal(signal.SIGTERM)
        log = server.communicate(timeout=30)[0]
        left = sorted(p.name for p in metrics_dir.glob("*")) if metrics_dir.exists() else None
        assert left is None, f"gunicorn left its private metrics directory behind ({left}); its log:\n{log}"
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(20)


def _counted(port) -> float:
    status, body = _request(port, "GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    return sum(float(value) for value in COUNTED.findall(body))


def test_the_production_command_stores_events_and_metrics_add_up_every_worker(production_server, events):
    port, metrics_dir = production_server
    bodies = [
        json.dumps({"routing_key": events.key, "event_action": "trigger", "dedup_key": f"disk-{i % 3}",
                    "payload": {"summary": "Disk full", "source": f"db-{i}", "severity": "error"}})
        for i in range(24)
    ]
    # Eight at a time, each on a new connection: the two workers share them.
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda body: _request(port, "POST", "/v2/enqueue", body)[0], bodies))

    assert statuses == [202] * 24
    assert Alert.objects.filter(integration=events).count() == 24
    # Each scrape is answered by one worker, and each must report all 24.
    assert [_counted(port) for _ in range(6)] == [24.0] * 6
    assert len(list(metrics_dir.glob("*.db"))) >= 2, "each worker keeps its own counters there"


def _metrics_dirs():
    return Path(tempfile.gettempdir()).glob("vigil-metrics-*")


@pytest.mark.parametrize(("name", "value"), [("GUNICORN_THREADS", "four"), ("WEB_CONCURRENCY", "0")])
def test_a_nonsense_worker_count_stops_gunicorn_with_a_message(name, value):
    # (gunicorn itself refuses a WEB_CONCURRENCY that is not a number, before reading the file)
    result = subprocess.run(  # noqa: S603 - our command
        [GUNICORN, "-c", "config/gunicorn.conf.py", "--check-config", "config.wsgi"], cwd=ROOT,
        env={**os.environ, name: value}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert f"{name}={value!r} is not a whole number of at least 1" in result.stdout + result.stderr
