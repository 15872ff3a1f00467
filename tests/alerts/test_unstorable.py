"""Text no database can store, bodies nested past the parser, times no page can show: 400, never a 500.

PostgreSQL's text and jsonb refuse a NUL character, and no text encodes an
unpaired UTF-16 surrogate as UTF-8; JSON can carry both as ``\\u`` escapes.
Each is refused with the field it is in, on every endpoint, before anything is
stored. Run on both databases (on SQLite a NUL would store, and the answer is
the same on purpose: a monitoring setup must not work on one and not the other).
"""

import json

import pytest

from alerts.models import Alert
from incidents.models import Incident

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "\\u0000", "\\ud800"


def v2(summary='"Disk full"', details="{}", dedup='"k1"', timestamp=None):
    payload = f'"summary": {summary}, "source": "db1", "severity": "error", "custom_details": {details}'
    if timestamp:
        payload += f', "timestamp": "{timestamp}"'
    return '{"routing_key": "%s", "event_action": "trigger", "dedup_key": ' + dedup + ', "payload": {' + payload + "}}"


def post_v2(client, events, body):
    return client.post("/v2/enqueue", (body % events.key).encode(), content_type="application/json")


@pytest.mark.parametrize("body, field", [
    (v2(summary=f'"Disk{NUL} full"'), "'payload.summary'"),
    (v2(summary=f'"Disk{SURROGATE} full"'), "'payload.summary'"),
    (v2(dedup=f'"k{NUL}"'), "'dedup_key'"),
    (v2(details=f'{{"disk": {{"mount": "/var{NUL}"}}}}'), "'payload.custom_details.disk.mount'"),
    (v2(details=f'{{"a{SURROGATE}": 1}}'), "A key of 'payload.custom_details'"),
    (v2(details=f'{{"list": ["ok", "x{NUL}"]}}'), "'payload.custom_details.list[1]'"),
])
def test_events_v2_refuses_unstorable_text_naming_the_field(client, events, body, field):
    response = post_v2(client, events, body)

    assert response.status_code == 400
    error = response.json()
    assert error["status"] == "invalid event"
    assert field in error["message"] and "remove it" in error["message"]
    assert error["errors"] == [error["message"]]
    assert not Alert.objects.exists() and not Incident.objects.exists()


def test_raw_surrogate_bytes_are_refused_too(client, events):
    body = (v2() % events.key).encode().replace(b"Disk full", b"Disk \xed\xa0\x80 full")
    response = client.post("/v2/enqueue", body, content_type="application/json")
    assert response.status_code == 400
    assert "'payload.summary'" in response.json()["message"]
    assert not Alert.objects.exists()


def test_escaped_emoji_and_escaped_backslashes_are_stored(client, events):
    # Python's json.dumps (ensure_ascii) writes 😀 as a surrogate pair; "\\u0000" is text, not a NUL.
    body = json.dumps({"routing_key": events.key, "event_action": "trigger", "dedup_key": "k",
                       "payload": {"summary": "Disk full 😀", "source": "db1", "severity": "error",
                                   "custom_details": {"path": "C:\\u0000dir"}}})
    assert "\\ud83d\\ude00" in body

    response = client.post("/v2/enqueue", body, content_type="application/json")

    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert alert.summary == "Disk full 😀"
    assert alert.details == {"path": "C:\\u0000dir"}


def test_alertmanager_and_webhook_refuse_unstorable_text_with_their_error_shape(client, am, hook):
    am_body = ('{"version": "4", "groupKey": "g", "status": "firing", "alerts": [{"status": "firing", '
               f'"labels": {{"alertname": "Disk{NUL}Full"}}, "fingerprint": "f1"}}]}}')
    response = client.post("/api/v1/integrations/alertmanager/", am_body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {am.key}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "'alerts[0].labels.alertname'" in response.json()["detail"]

    response = client.post(hook.url, f'{{"title": "Backup{SURROGATE} failed"}}', content_type="application/json")
    assert response.status_code == 400
    assert "'title'" in response.json()["detail"]
    assert not Alert.objects.exists() and not Incident.objects.exists()


@pytest.mark.parametrize("endpoint", ["events_v2", "alertmanager", "webhook"])
def test_a_body_nested_past_the_parser_is_refused_with_400(client, events, am, hook, endpoint):
    deep = "[" * 100_000 + "]" * 100_000  # 200 KB, under the size limit
    url, headers = {
        "events_v2": ("/v2/enqueue", {}),
        "alertmanager": ("/api/v1/integrations/alertmanager/", {"HTTP_AUTHORIZATION": f"Bearer {am.key}"}),
        "webhook": (hook.url, {}),
    }[endpoint]

    response = client.post(url, deep, content_type="application/json", **headers)

    assert response.status_code == 400
    assert "nested too deeply" in json.dumps(response.json())


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.999999-00:01",
                                       "9999-12-31T23:59:59Z", "0002-01-01T00:00:00+01:00"])
def test_a_time_past_the_last_storable_instant_is_refused(client, events, timestamp):
    response = post_v2(client, events, v2(timestamp=timestamp))

    assert response.status_code == 400
    assert any("'payload.timestamp' is out of range" in e for e in response.json()["errors"])
    assert not Alert.objects.exists()


def test_a_time_with_an_offset_is_stored_as_the_same_instant(client, events):
    response = post_v2(client, events, v2(timestamp="2026-11-20T14:00:00+05:30"))

    assert response.status_code == 202
    assert Alert.objects.get().started_at.isoformat() == "2026-11-20T08:30:00+00:00"


def test_alertmanagers_unset_start_still_means_not_set(client, am):
    body = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X"}, "fingerprint": "f1",
         "startsAt": "0001-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}
    response = client.post("/api/v1/integrations/alertmanager/", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {am.key}")
    assert response.status_code == 202
    assert Alert.objects.get().started_at is None
