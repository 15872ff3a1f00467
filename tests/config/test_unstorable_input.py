"""Input no database can store, or no parser can read, anywhere in the product: 400 with what to fix.

A NUL in a URL (``%00``) or a form, a NUL or lone surrogate in a JSON body,
NaN, and JSON nested past Python's recursion limit. Each used to reach
PostgreSQL or the parser and come back as a 500. Run on both databases:
SQLite would store a NUL, but the answer must not depend on the database.
"""

import json

import pytest

from alerts.models import Integration
from alerts.services import create_integration
from incidents.models import Incident, Service
from tests.factories import ensure_severities, make_incident

pytestmark = pytest.mark.django_db

REFUSED = "holds a NUL character"


@pytest.fixture(autouse=True)
def severities(db):
    ensure_severities()


@pytest.fixture
def incident(alice, payments, checkout):
    return make_incident(team=payments, by=alice, services=[checkout])


@pytest.mark.parametrize("url", [
    "/api/v1/incidents/INC-2026%000001/",
    "/api/v1/users/a%00b/",
    "/api/v1/alerts/?service=a%00b",
    "/api/v1/integrations/?kind=a%00b",
    "/api/v1/oncall/?team=a%00b",
])
def test_a_nul_in_an_api_url_is_a_400_in_the_api_error_shape(api, alice, url):
    response = api.as_user(alice).get(url)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and REFUSED in body["detail"]


@pytest.mark.parametrize("url", ["/incidents/a%00b/", "/oncall/calendar/a%00b.ics", "/incidents/?q=a%00b"])
def test_a_nul_in_a_page_url_is_a_400_page(client, alice, url):
    client.force_login(alice)
    response = client.get(url)

    assert response.status_code == 400
    assert REFUSED in response.content.decode()


def test_a_nul_in_a_submitted_form_is_a_400_and_nothing_changes(client, alice, incident):
    client.force_login(alice)
    response = client.post(f"/incidents/{incident.number}/notes/", {"body": "first\x00line"})

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not incident.notes.exists()


@pytest.mark.parametrize("body, where", [
    ('{"title": "Checkout down", "severity": "SEV2", "team": "payments", "services": ["a\\u0000b"]}',
     "'services[0]'"),
    ('{"title": "Checkout\\ud800 down", "severity": "SEV2", "team": "payments"}', "'title'"),
    ('{"title": "Checkout down", "severity": "SEV2", "team": "pay\\u0000ments"}', "'team'"),
    ('{"title": "x", "severity": "SEV2", "team": "payments", "impact": {"a\\u0000": 1}}', "a key of 'impact'"),
])
def test_unstorable_text_in_an_api_json_body_is_a_400_naming_the_field(api, alice, checkout, body, where):
    response = api.as_user(alice).post("/api/v1/incidents/", body, content_type="application/json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "parse_error"
    assert where in error["detail"].lower() and REFUSED in error["detail"]
    assert not Incident.objects.exists()


def test_an_api_json_body_nested_past_the_parser_is_a_400(api, alice):
    response = api.as_user(alice).post("/api/v1/incidents/", "[" * 100_000 + "]" * 100_000,
                                       content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_nan_in_an_api_json_body_is_a_400(api, alice, checkout):
    body = '{"service": "checkout", "kind": "events_v2", "name": "PD", "severity_map": {"critical": NaN}}'
    response = api.as_user(alice).post("/api/v1/integrations/", body, content_type="application/json")
    assert response.status_code == 400
    assert "NaN is not a JSON number" in response.json()["detail"]
    assert not Integration.objects.exists()


@pytest.mark.parametrize("endpoint", ["events", "webhook"])
def test_nan_in_an_ingested_event_is_a_400(client, checkout, alice, endpoint):
    integration, key = create_integration(service=checkout, kind="events_v2" if endpoint == "events" else "webhook",
                                          name="x", by=alice)
    if endpoint == "events":
        body = ('{"routing_key": "KEY", "event_action": "trigger", "payload": {"summary": "s", "source": "x", '
                '"severity": "error", "custom_details": {"load": Infinity}}}').replace("KEY", key)
        url = "/v2/enqueue"
    else:
        body, url = '{"title": "Backup failed", "details": {"took": NaN}}', f"/api/v1/integrations/webhook/{key}/"
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "is not a JSON number" in json.dumps(response.json())


def test_a_plain_api_write_still_works(api, alice, checkout):
    body = {"title": "Checkout 😀 down", "severity": "SEV2", "team": "payments", "services": ["checkout"]}
    response = api.as_user(alice).post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 201, response.content
    assert Incident.objects.get().title == "Checkout 😀 down"
    assert Service.objects.filter(slug="checkout").exists()


# A number too large for a double parses as infinity, which jsonb refuses (a 500 before).
HUGE = ["1e400", "-1e400", "1E+400", "1" + "0" * 400 + ".5"]


@pytest.mark.parametrize("number", HUGE)
def test_events_v2_refuses_a_number_too_large_naming_the_field(client, events, number):
    body = ('{"routing_key": "KEY", "event_action": "trigger", "dedup_key": "k", "payload": {"summary": "Disk",'
            ' "source": "db1", "severity": "error", "custom_details": {"disk": {"free": NUMBER}}}}'
            ).replace("KEY", events.key).replace("NUMBER", number)
    response = client.post("/v2/enqueue", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "'payload.custom_details.disk.free' is a number too large" in response.json()["errors"][0]


def test_webhook_refuses_a_number_too_large_naming_the_field(client, hook):
    response = client.post(hook.url, '{"title": "Export failed", "details": {"rows": [1, 1e400]}}',
                           content_type="application/json")
    assert response.status_code == 400, response.content
    assert "'details.rows[1]' is a number too large" in response.json()["detail"]


def test_the_api_refuses_a_number_too_large(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/incidents/", '{"title": "x", "severity": "SEV2", "team": "payments",'
                                       ' "impact": {"revenue": 1e400}}', content_type="application/json")
    assert response.status_code == 400
    assert "too large" in response.json()["detail"]
