"""Webhook and heartbeat keys, which travel in URL paths, never appear in a log line."""

import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from config.redact import GunicornLogger, redact

KEY = "9f3c0a0e5b1d4c7e8a2b6d4f0e1c3a5b"


def test_django_request_log_names_the_path_without_the_key(db, client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.post(f"/api/v1/integrations/webhook/{KEY}/", data="{}", content_type="application/json")
        client.get(f"/api/v1/heartbeats/{KEY}/")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/api/v1/integrations/webhook/[redacted]/" in logged
    assert KEY not in logged


def test_gunicorns_access_log_line_has_no_key():
    logger = GunicornLogger(Config())
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/api/v1/heartbeats/{KEY}/?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": f"/api/v1/heartbeats/{KEY}/", "QUERY_STRING": "x=1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": f"https://vigil.example.com/api/v1/integrations/webhook/{KEY}/"}
    response = SimpleNamespace(status="202 Accepted", headers=[], sent=10)
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {KEY}")])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = logger.cfg.access_log_format % atoms + " " + atoms["{authorization}i"]
    assert KEY not in line and KEY not in str(atoms)
    assert "/api/v1/heartbeats/[redacted]/" in atoms["r"]


def test_other_paths_are_left_alone():
    assert redact("GET /incidents/INC-2026-0001/ 200") == "GET /incidents/INC-2026-0001/ 200"


def test_webhook_and_heartbeat_accept_the_key_in_an_authorization_header(client, hook, checkout, alice):
    from alerts.services import create_integration

    sent = client.post("/api/v1/integrations/webhook/", '{"title": "Export failed", "dedup_key": "export"}',
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {hook.key}")
    assert sent.status_code == 202, sent.content
    assert sent.json()["incident"].startswith("INC-")
    heartbeat, key = create_integration(service=checkout, kind="heartbeat", name="Backups", by=alice,
                                        interval_seconds=3600)
    assert client.post("/api/v1/heartbeats/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    heartbeat.refresh_from_db()
    assert heartbeat.last_ping_at is not None


def test_without_a_key_in_path_or_header_the_answer_says_how_to_send_it(client):
    response = client.post("/api/v1/integrations/webhook/", "{}", content_type="application/json")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert client.post("/api/v1/integrations/webhook/", "{}", content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
