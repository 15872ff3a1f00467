"""The generic JSON webhook: {title, severity?, dedup_key?, status?, details?}."""

import json

import pytest

from alerts.models import Alert
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_firing_opens_an_incident_and_answers_with_its_number(client, hook):
    response = post(client, hook.url, {"title": "Nightly export failed", "severity": "warning",
                                       "dedup_key": "export", "details": {"exit_code": 3}})
    assert response.status_code == 202
    incident = Incident.objects.get()
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "export",
                               "incident": incident.number}
    assert incident.severity.name == "SEV3"
    assert Alert.objects.get().details == {"exit_code": 3}


def test_same_dedup_key_joins_and_resolved_resolves(client, hook):
    post(client, hook.url, {"title": "Export failed", "dedup_key": "export"})
    post(client, hook.url, {"title": "Export failed again", "dedup_key": "export"})
    incident = Incident.objects.get()
    assert incident.alert_count == 2

    assert post(client, hook.url, {"dedup_key": "export", "status": "resolved"}).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_without_dedup_key_each_call_is_its_own_incident(client, hook):
    first = post(client, hook.url, {"title": "A"}).json()["dedup_key"]
    second = post(client, hook.url, {"title": "B"}).json()["dedup_key"]
    assert first != second
    assert Incident.objects.count() == 2


@pytest.mark.parametrize(("body", "needle"), [
    ({}, "'title' is missing"),
    ({"title": 5}, "'title' must be a string"),
    ({"title": "x", "severity": "SEV9"}, "'severity' must be one of critical, error, warning, info"),
    ({"title": "x", "status": "open"}, "'status' must be one of firing, resolved"),
    ({"title": "x", "details": "text"}, "'details' must be an object"),
    ({"status": "resolved"}, "'dedup_key' is missing"),
    ([], "must be a JSON object"),
])
def test_bad_input_is_refused_with_what_to_fix(client, hook, body, needle):
    response = post(client, hook.url, body)
    assert response.status_code == 400
    assert needle in " ".join(response.json()["errors"])
    assert response.json()["detail"].startswith("Invalid input:")
    assert not Alert.objects.exists()


def test_a_field_it_does_not_know_is_accepted_and_kept_on_the_alert(client, hook):
    response = post(client, hook.url, {"title": "Export failed", "body": "?", "exit": {"code": 3}})

    assert response.status_code == 202
    assert Alert.objects.get().unknown_fields == {"body": "?", "exit": {"code": 3}}


def test_unknown_key_is_404(client, hook):
    response = post(client, "/api/v1/integrations/webhook/00000000000000000000000000000000/", {"title": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
