"""The OpenAPI schema and the API agree: what Schemathesis found (test_api_schema_fuzz), one behaviour each.

Each test checks an answer against the schema served at /api/schema/, or a rule of the schema against
what the API does with the same input; each failed before its fix.
"""

import re

import jsonschema
import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from incidents.models import Incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), GENERATOR_STATS.silence():
        return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema, which jsonschema reads."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "type" not in node:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def conforms(openapi, schema: dict, instance) -> bool:
    root = {**_json_schema(schema), "components": _json_schema(openapi["components"])}
    return jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker()).is_valid(instance)


def component(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def request_schema(openapi, path: str, method: str) -> dict:
    return openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def response_schema(openapi, path: str, method: str, status: int) -> dict:
    return openapi["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


# --- Answers the schema did not admit ---------------------------------------------------

def test_an_incident_nobody_commands_opened_by_no_one_matches_its_schema(openapi, api, alice, payments):
    incident = make_incident(team=payments, by=None)  # as an alert opens one: no declarer, no commander
    client = api.as_user(alice)

    detail = client.get(f"/api/v1/incidents/{incident.number}/")
    assert (detail.data["commander"], detail.data["declared_by"]) == (None, None)
    assert conforms(openapi, response_schema(openapi, "/api/v1/incidents/{number}/", "get", 200), detail.json())

    timeline = client.get(f"/api/v1/incidents/{incident.number}/timeline/")
    assert timeline.data["results"][0]["actor"] is None
    path = "/api/v1/incidents/{number}/timeline/"
    assert conforms(openapi, response_schema(openapi, path, "get", 200), timeline.json())


def test_adding_a_member_again_answers_200_as_documented(openapi, api, alice, bob, payments):
    response = api.as_user(alice).post("/api/v1/teams/payments/members/", {"user": "bob"}, format="json")
    assert response.status_code == 200
    assert conforms(openapi, response_schema(openapi, "/api/v1/teams/{slug}/members/", "post", 200),
                    response.json())


def test_every_api_operation_documents_the_errors_it_can_answer(openapi):
    for path, item in openapi["paths"].items():
        if not path.startswith("/api/v1/") or "heartbeats" in path or "integrations/webhook" in path \
                or path in ("/api/v1/events/", "/api/v1/integrations/alertmanager/"):
            continue  # the ingest endpoints carry their foreign formats' own errors
        for method, operation in item.items():
            answers = operation["responses"]
            assert {"401", "429"} <= set(answers), (method, path)
            assert "Retry-After" in answers["429"]["headers"]
            if "{" in path:
                assert "404" in answers, (method, path)
            if method != "get":
                assert {"400", "403", "409"} <= set(answers), (method, path)


def test_error_answers_have_the_documented_shape(openapi, api, alice, payments, settings):
    client = api.as_user(alice)
    missing = client.get("/api/v1/incidents/INC-1999-0001/")
    assert conforms(openapi, response_schema(openapi, "/api/v1/incidents/{number}/", "get", 404), missing.json())
    invalid = client.post("/api/v1/incidents/", {"title": ""}, format="json")
    assert conforms(openapi, response_schema(openapi, "/api/v1/incidents/", "post", 400), invalid.json())

    settings.API_THROTTLE_USER = "1/minute"
    client.get("/api/v1/teams/")
    throttled = client.get("/api/v1/teams/")
    assert conforms(openapi, response_schema(openapi, "/api/v1/teams/", "get", 429), throttled.json())


def test_a_429_says_when_to_retry_even_past_a_lowered_rate(api, alice, payments, settings):
    """DRF gave no Retry-After when more requests were on record than the rate allowed."""
    client = api.as_user(alice)
    for _ in range(3):
        assert client.get("/api/v1/teams/").status_code == 200
    settings.API_THROTTLE_USER = "1/minute"
    throttled = client.get("/api/v1/teams/")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert "try again in" in throttled.data["detail"]


# --- Requests the schema calls invalid, which the API took -----------------------------

@pytest.mark.parametrize("page_size", ["lots", "0", "-5", "", "١٠"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_400_naming_it(api, alice, payments, page_size):
    response = api.as_user(alice).get("/api/v1/teams/", {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.data


def test_a_page_size_above_500_reads_as_500_as_documented(openapi, api, alice, payments):
    assert api.as_user(alice).get("/api/v1/teams/", {"page_size": 100000}).status_code == 200
    page_size = next(p for p in openapi["paths"]["/api/v1/teams/"]["get"]["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1} and "500" in page_size["description"]


@pytest.mark.parametrize("page", ["", "١", "0"])
def test_a_page_that_is_not_a_whole_number_from_1_is_404(api, alice, payments, page):
    assert api.as_user(alice).get("/api/v1/teams/", {"page": page}).status_code == 404


@pytest.mark.parametrize(("path", "body", "field"), [
    ("notes/", {"body": 5}, "body"),
    ("updates/", {"state": "investigating", "body": "On it.", "public": "yes"}, "public"),
    ("roles/", {"role": "scribe", "user": ["bob"]}, "user"),
])
def test_a_json_body_field_takes_only_its_own_type(api, alice, bob, payments, path, body, field):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{incident.number}/{path}", body, format="json")
    assert response.status_code == 400
    assert "Give " in response.data[field][0]


def test_numbers_as_text_are_refused_and_decimals_still_take_numbers(api, alice, payments):
    client = api.as_user(alice)
    base = {"title": "Checkout down", "severity": "SEV2", "team": "payments"}
    assert client.post("/api/v1/incidents/", {**base, "users_affected": "5"}, format="json").status_code == 400
    assert client.post("/api/v1/incidents/", {**base, "revenue_impact": 99.5}, format="json").status_code == 201


def test_a_form_body_is_still_read_as_text(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{incident.number}/updates/",
                                       {"state": "investigating", "body": "On it.", "public": "true"})
    assert response.status_code == 201


def test_rotation_zero_is_no_rotation_id(api, alice, payments):
    assert api.as_user(alice).get("/api/v1/overrides/", {"rotation": "0"}).status_code == 400


def test_rotate_key_documents_no_body_and_the_key_it_answers(openapi):
    operation = openapi["paths"]["/api/v1/integrations/{id}/rotate-key/"]["post"]
    assert "requestBody" not in operation
    answer = response_schema(openapi, "/api/v1/integrations/{id}/rotate-key/", "post", 200)
    assert "key" in openapi["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]["properties"]


# --- Requests the schema calls valid, which the API refused ----------------------------

def test_an_empty_at_is_now_as_every_empty_filter_is_no_filter(openapi, api, alice, payments):
    assert api.as_user(alice).get("/api/v1/oncall/", {"at": ""}).status_code == 200
    at = next(p for p in openapi["paths"]["/api/v1/oncall/"]["get"]["parameters"] if p["name"] == "at")
    assert at["allowEmptyValue"] is True


@pytest.mark.parametrize("title", ["Checkout down", "  ", "\x1c", "Checkout\ndown", "\u00a0", "ok\x85", " ok\n",
                                   "ok\x01", "\tok\x0bok"])
def test_the_title_pattern_says_what_the_api_takes(openapi, api, alice, payments, title):
    """A blank title (after DRF trims it) and one on several lines are refused: the pattern says both."""
    schema = openapi["components"]["schemas"]["IncidentCreateRequest"]["properties"]["title"]
    response = api.as_user(alice).post("/api/v1/incidents/", {"title": title, "severity": "SEV3", "team": "payments"},
                                       format="json")
    assert (response.status_code == 201) == bool(re.search(schema["pattern"], title)), response.data


@pytest.mark.parametrize(("body", "accepted"), [
    ({"kind": "webhook", "interval_seconds": 60}, False),
    ({"kind": "heartbeat"}, False),
    ({"kind": "heartbeat", "interval_seconds": None}, False),
    ({"kind": "heartbeat", "interval_seconds": 60}, True),
    ({"kind": "webhook", "interval_seconds": None}, True),
])
def test_the_integration_schema_says_which_kinds_take_an_interval(openapi, api, alice, checkout, body, accepted):
    body = {"service": "checkout", "name": "Cron", **body}
    assert conforms(openapi, request_schema(openapi, "/api/v1/integrations/", "post"), body) is accepted
    response = api.as_user(alice).post("/api/v1/integrations/", body, format="json")
    assert (response.status_code == 201) is accepted, response.data


@pytest.mark.parametrize(("body", "accepted"), [
    ({"status": "resolved"}, False),
    ({"status": "resolved", "dedup_key": ""}, False),
    ({"status": "resolved", "dedup_key": "disk-1"}, True),
    ({"title": "Disk full", "status": None, "severity": None}, True),
    ({"title": " "}, False),
])
def test_the_webhook_schema_says_what_each_status_needs(openapi, client, hook, body, accepted):
    assert conforms(openapi, request_schema(openapi, "/api/v1/integrations/webhook/{key}/", "post"), body) is accepted
    response = client.post(hook.url, body, content_type="application/json")
    assert (response.status_code == 202) is accepted, response.content


def test_a_team_whose_name_makes_no_slug_gets_one(api, sam):
    """The slug is optional; it was made from the name, and 日本 made none: a 400 about a field not sent."""
    response = api.as_user(sam).post("/api/v1/teams/", {"name": "日本"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["slug"].startswith("team-")


def test_participants_are_listed_once_each(openapi):
    participants = openapi["components"]["schemas"]["RotationInputRequest"]["properties"]["participants"]
    assert participants["minItems"] == 1 and participants["uniqueItems"] is True


# --- Found here, fixed elsewhere ---------------------------------------------------------

def test_an_alert_summary_on_several_lines_opens_an_incident(client, hook):
    response = client.post(hook.url, {"title": "Disk full\non db-1"}, content_type="application/json")
    assert response.status_code == 202
    assert "\n" not in Incident.objects.get(number=response.json()["incident"]).title
