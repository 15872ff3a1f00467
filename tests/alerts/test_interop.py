"""Real senders, unchanged, pointed at Vigil: the README's configurations and snippets, run.

- Prometheus Alertmanager (Debian's ``prometheus-alertmanager``, the Go
  binary) with the README's ``webhook_configs`` and ``pagerduty_configs``
  receivers: alerts posted to Alertmanager's own API reach Vigil over HTTP,
  open an incident, and resolve it when Alertmanager sends them resolved.
- PagerDuty's Python clients (``pagerduty``, and the older ``pdpyras``) with
  only their events URL changed: trigger, acknowledge, resolve.

Vigil runs as pytest-django's live server; the senders speak real HTTP to it.
Alertmanager is started here on free loopback ports and stopped after each
test. .ci/run installs it; where it is missing its tests are skipped with the
command that installs it.
"""

import json
import re
import shutil
import ssl
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pagerduty
import pdpyras
import pytest
import yaml
from django.db import OperationalError
from django.db.models import Q

from alerts.models import Alert
from alerts.services import create_integration
from incidents.models import Incident
from tests.factories import ensure_severities
from tests.net import free_port, wait_until
from tests.tls_proxy import tls_front

pytestmark = pytest.mark.process  # a live server, Alertmanager, openssl

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE_SITE = "https://vigil.example.com"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="Prometheus Alertmanager is not installed: apt-get install -y prometheus-alertmanager (.ci/run does)",
)


def readme_block(heading: str) -> str:
    """The first fenced code block under the README heading that starts with ``heading``."""
    text = README.read_text()
    start = text.index(f"\n#### {heading}")
    match = re.search(r"```[a-z]*\n(.*?)```", text[start:], re.S)
    assert match, f"no code block under {heading!r} in README.md"
    return match.group(1)


class Alertmanager:
    """One Alertmanager process with a given configuration, and its alerts API."""

    def __init__(self, config: dict, workdir: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        config_file = workdir / "alertmanager.yml"
        config_file.write_text(yaml.safe_dump(config))
        self.log = (workdir / "alertmanager.log").open("w")
        self.process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={config_file}", f"--storage.path={workdir / 'data'}",
             f"--web.listen-address={self.url.removeprefix('http://')}", "--cluster.listen-address=",
             "--log.level=debug"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until(self._ready, "Alertmanager to start", timeout=15, log=self.log_text)
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"Alertmanager exited: {self.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:  # noqa: S310 - loopback
                return response.status == 200
        except OSError:
            return False

    def post(self, labels: dict, annotations: dict, *, resolved: bool = False) -> None:
        """Hand Alertmanager an alert, as Prometheus does; ``resolved`` sends it with an end in the past."""
        now = datetime.now(UTC)
        alert = {"labels": labels, "annotations": annotations,
                 "startsAt": (now - timedelta(minutes=5)).isoformat(),
                 "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"}
        if resolved:
            alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
        request = urllib.request.Request(f"{self.url}/api/v2/alerts", data=json.dumps([alert]).encode(),  # noqa: S310
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            assert response.status == 200

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture
def alertmanager(tmp_path):
    started = []

    def start(config: dict) -> Alertmanager:
        # Notify at once and re-check every second, so the test takes seconds, not Alertmanager's minutes.
        config["route"].update(group_wait="0s", group_interval="1s", repeat_interval="1h")
        started.append(Alertmanager(config, tmp_path))
        return started[-1]

    yield start
    for process in started:
        process.stop()
    if started:
        # A notification Alertmanager sent just before it stopped may still be in Vigil's hands (on SQLite a
        # request can fail "table is locked" and be retried); let it finish before the database is emptied.
        time.sleep(1)


@pytest.fixture(autouse=True)
def severities(transactional_db):
    """The live server needs committed rows: a transactional test starts from the flushed database."""
    ensure_severities()


@pytest.fixture
def https_live_server(live_server, tmp_path):
    """(https URL, CA file) of the live server behind TLS, as a reverse proxy serves Vigil."""
    with tls_front(int(live_server.url.rsplit(":", 1)[1]), tmp_path) as front:
        yield front


def pointed_at(live_server, value):
    """The README's example, with Vigil's address in place of the example site."""
    return value.replace(EXAMPLE_SITE, live_server.url) if isinstance(value, str) else value


def stored(read):
    """``read()``, or None while the live server is writing: SQLite's shared in-memory test database
    refuses a read of a table another connection is writing ("table is locked") instead of waiting."""
    try:
        return read()
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return None


def incident_of(integration, **filters):
    alert = stored(lambda: Alert.objects.filter(integration=integration, **filters).select_related("incident").first())
    return alert.incident if alert is not None and alert.incident is not None else None


@needs_alertmanager
@pytest.mark.django_db(transaction=True)
def test_alertmanager_webhook_config_from_the_readme(live_server, alertmanager, checkout, alice):
    integration, key = create_integration(service=checkout, kind="alertmanager", name="Prometheus", by=alice)
    config = yaml.safe_load(readme_block("Prometheus Alertmanager — webhook"))
    receiver = config["receivers"][0]["webhook_configs"][0]
    receiver["url"] = pointed_at(live_server, receiver["url"])
    receiver["http_config"]["authorization"]["credentials"] = key
    manager = alertmanager(config)

    labels = {"alertname": "CheckoutErrors", "job": "checkout", "severity": "critical", "instance": "web-1"}
    annotations = {"summary": "Checkout 5xx above 5%", "runbook_url": "https://runbooks.example/checkout"}
    manager.post(labels, annotations)
    incident = wait_until(lambda: incident_of(integration), "Alertmanager's firing notification",
                          log=manager.log_text)
    alert = Alert.objects.get(integration=integration)
    assert alert.labels["alertname"] == "CheckoutErrors"
    assert alert.annotations["summary"] == "Checkout 5xx above 5%"
    assert alert.runbook_url == "https://runbooks.example/checkout"
    assert incident.status == "triggered"
    assert incident.title.startswith("Checkout 5xx above 5%")
    assert incident.severity.name == "SEV1"

    manager.post(labels, annotations, resolved=True)
    wait_until(lambda: Incident.objects.get(pk=incident.pk).status == "resolved",
               "Alertmanager's resolved notification to resolve the incident", log=manager.log_text)
    assert Alert.objects.get(integration=integration).status == "resolved"


@needs_alertmanager
@pytest.mark.django_db(transaction=True)
def test_alertmanager_pagerduty_config_from_the_readme(live_server, alertmanager, checkout, alice):
    integration, key = create_integration(service=checkout, kind="events_v2", name="Alertmanager PD", by=alice)
    receivers = yaml.safe_load(readme_block("Prometheus Alertmanager — `pagerduty_configs`"))["receivers"]
    receiver = receivers[0]["pagerduty_configs"][0]
    receiver["url"] = pointed_at(live_server, receiver["url"])
    receiver["routing_key"] = key
    manager = alertmanager({"route": {"receiver": receivers[0]["name"], "group_by": ["alertname"]},
                            "receivers": receivers})

    labels = {"alertname": "DiskFull", "severity": "warning", "instance": "db-1"}
    manager.post(labels, {"summary": "Disk 95% full on db-1"})
    incident = wait_until(lambda: incident_of(integration), "Alertmanager's PagerDuty trigger",
                          log=manager.log_text)
    alert = Alert.objects.get(integration=integration)
    assert "DiskFull" in incident.title  # Alertmanager's default PagerDuty description: [FIRING:1] DiskFull …
    assert alert.severity == "warning"  # the README's severity template passed the label through
    assert incident.severity.name == "SEV3"
    assert alert.details["num_firing"] in (1, "1")  # Alertmanager's custom_details are kept

    manager.post(labels, {"summary": "Disk 95% full on db-1"}, resolved=True)
    wait_until(lambda: Incident.objects.get(pk=incident.pk).status == "resolved",
               "Alertmanager's PagerDuty resolve", log=manager.log_text)
    assert Incident.objects.filter(pk=incident.pk, alert_count=1).exists()

    # Groups without a standard severity label still page (as error → SEV2), not dropped by a 400.
    manager.post({"alertname": "NoSeverityLabel", "instance": "db-2"}, {"summary": "No label"})
    manager.post({"alertname": "PagedByConvention", "severity": "page", "instance": "db-3"}, {"summary": "Page"})
    # Both notifications are in flight at once: wait until both incidents are stored, then read them in one query.
    both = Alert.objects.filter(Q(summary__contains="NoSeverityLabel") | Q(summary__contains="PagedByConvention"),
                                integration=integration, incident__isnull=False)

    def both_stored():
        rows = list(both.values_list("severity", "incident__severity__name"))
        return rows if len(rows) == 2 else None

    rows = wait_until(lambda: stored(both_stored),
                      "Alertmanager's PagerDuty triggers for the groups without a standard severity",
                      log=manager.log_text)
    assert rows == [("error", "SEV2"), ("error", "SEV2")]


@pytest.mark.django_db(transaction=True)
def test_pagerduty_python_client_with_vigils_url(https_live_server, checkout, alice):
    integration, key = create_integration(service=checkout, kind="events_v2", name="Scripts", by=alice)
    url, ca_file = https_live_server
    with pagerduty.EventsApiV2Client(key, base_url=url, verify=ssl.create_default_context(cafile=ca_file)) as client:
        dedup_key = client.trigger("Disk full on db1", "db1", severity="error",
                                   custom_details={"free_bytes": 0}, links=[{"href": "https://grafana.example/d/db"}])
        alert = Alert.objects.select_related("incident__severity").get(integration=integration)
        assert alert.dedup_key == dedup_key  # generated by Vigil and read back from the reply by the client
        assert alert.details == {"free_bytes": 0}
        assert alert.links == [{"href": "https://grafana.example/d/db"}]
        assert alert.incident.severity.name == "SEV2"
        assert alert.incident.status == "triggered"

        assert client.acknowledge(dedup_key) == dedup_key
        assert Incident.objects.get(pk=alert.incident_id).status == "acknowledged"
        assert client.resolve(dedup_key) == dedup_key
        assert Incident.objects.get(pk=alert.incident_id).status == "resolved"


@pytest.mark.django_db(transaction=True)
def test_pagerduty_client_sending_fields_vigil_does_not_know_is_accepted(https_live_server, checkout, alice):
    """A sender newer than Vigil: extra keys at the top level and in the payload are kept, not refused."""
    integration, key = create_integration(service=checkout, kind="events_v2", name="Newer scripts", by=alice)
    url, ca_file = https_live_server
    with pagerduty.EventsApiV2Client(key, base_url=url, verify=ssl.create_default_context(cafile=ca_file)) as client:
        dedup_key = client.send_event(
            "trigger", payload={"summary": "Disk full on db1", "source": "db1", "severity": "error",
                                "colour": "red"},
            priority="P2", routing_hint={"region": "eu-west-1"},
        )

    alert = Alert.objects.select_related("incident").get(integration=integration)
    assert alert.dedup_key == dedup_key  # generated by Vigil and read back from the 202 by the client
    assert alert.unknown_fields == {"priority": "P2", "routing_hint": {"region": "eu-west-1"},
                                    "payload": {"colour": "red"}}
    assert alert.incident.status == "triggered"


@pytest.mark.django_db(transaction=True)
def test_pdpyras_session_as_in_the_readme(live_server, checkout, alice):
    integration, key = create_integration(service=checkout, kind="events_v2", name="Old scripts", by=alice)
    with pdpyras.EventsAPISession(key) as session:
        session.url = live_server.url
        dedup_key = session.trigger("Disk full on db1", "db1", severity="error")
        incident = Alert.objects.select_related("incident").get(integration=integration, dedup_key=dedup_key).incident
        assert incident.status == "triggered"
        session.resolve(dedup_key)
    assert Incident.objects.get(pk=incident.pk).status == "resolved"
