"""/metrics: Prometheus text, behind METRICS_TOKEN, allowed networks or a staff session."""

import json

import pytest

from alerts.services import create_integration

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    return settings.METRICS_TOKEN


def test_without_token_or_staff_session_metrics_are_refused(client, token, bob):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(bob)
    assert client.get("/metrics").status_code == 401


def test_an_empty_token_setting_never_matches(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_scrapers_from_allowed_networks_need_no_token(client, settings, token):
    import ipaddress

    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("fd00::/8")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="fd00::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 401
    # Only the direct peer counts: a forwarded-for header is anyone's to write.
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def sample_value(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_events_by_integration_and_outcome_and_open_incidents(client, token, checkout, alice):
    integration, key = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    label = f'integration="{integration.pk}",kind="events_v2"'
    series = {o: f'vigil_events_received_total{{{label},outcome="{o}"}}'
              for o in ("triggered", "deduplicated", "invalid")}
    # Counters live for the whole process (as in production), so measure the change.
    before = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": "a",
            "payload": {"summary": "s", "source": "x", "severity": "warning"}}
    for _ in range(2):
        client.post("/v2/enqueue", json.dumps(body), content_type="application/json")
    client.post("/v2/enqueue", json.dumps({"routing_key": key}), content_type="application/json")

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for outcome in ("triggered", "deduplicated", "invalid"):
        assert sample_value(text, series[outcome]) - sample_value(before, series[outcome]) == 1, outcome
    assert 'vigil_incidents_open{severity="SEV3",team="payments"} 1.0' in text
    assert "vigil_http_request_duration_seconds_bucket" in text


def test_staff_session_may_read_metrics(client, sam):
    client.force_login(sam)
    assert client.get("/metrics").status_code == 200


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_metrics_show_on_call_coverage_gaps_per_team_and_layer(client, token, payments, alice):
    from datetime import datetime, timedelta

    from django.utils import timezone

    from oncall.services import create_rotation

    soon = timezone.now() + timedelta(days=7)
    local = soon.astimezone(timezone.get_fixed_timezone(0)).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    create_rotation(team=payments, name="Primary", layer="primary", participants=[alice], shift_length="P7D",
                    handoff_at=datetime.fromisoformat(local.isoformat()), timezone="UTC")

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    line = next(x for x in response.content.decode().splitlines()
                if x.startswith('vigil_oncall_coverage_gap_seconds{layer="primary",team="payments"}'))
    # Nobody is on call until the rotation starts a week from now: about 7 days of gap.
    assert 6.9 * 86400 < float(line.split()[-1]) <= 7 * 86400
