"""Every error has the same shape, says what to fix, and bad input is never a 500."""

import pytest
from rest_framework.test import APIClient

from incidents.models import Incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.data["detail"], str) and response.data["detail"]
    assert response.data["code"] == code


@pytest.mark.parametrize("path", [
    "/api/v1/incidents/", "/api/v1/services/", "/api/v1/users/", "/api/v1/users/me/", "/api/v1/teams/",
])
def test_no_token_is_401(db, path):
    assert_error(APIClient().get(path), 401, "not_authenticated")


def test_a_bad_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert_error(client.get("/api/v1/incidents/"), 401, "authentication_failed")


def test_field_errors_sit_beside_detail_and_code(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/incidents/", {"severity": "SEV1"}, format="json")
    assert_error(response, 400, "invalid")
    assert response.data["title"] == ["This field is required."]
    assert response.data["team"] == ["This field is required."]
    assert response.data["detail"].startswith("Invalid input: ")


def post_incident(api, user, **overrides):
    body = {"title": "Broken", "severity": "SEV2", "team": "payments", **overrides}
    return api.as_user(user).post("/api/v1/incidents/", body, format="json")


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("severity", "SEV9", "SEV1"),
    ("severity", 3, "SEV1"),
    ("severity", None, "null"),
    ("team", "nope", "GET /api/v1/teams/"),
    ("team", ["payments"], "slug"),
    ("services", ["no-such-service"], "no-such-service"),
    ("services", "checkout", "list"),
    ("category", "meteor", "meteor"),
    ("started_at", "yesterday", "format"),
    ("started_at", "2999-01-01T00:00:00Z", "future"),
    ("users_affected", "many", "integer"),
    ("users_affected", -1, "greater than or equal to 0"),
    ("revenue_impact", "lots", "number"),
    ("customer_facing", "perhaps", "boolean"),
    ("title", "x" * 300, "255"),
    ("title", "", "blank"),
])
def test_wrong_values_on_create_are_400_naming_the_field(api, alice, payments, checkout, field, value, hint):
    response = post_incident(api, alice, **{field: value})
    assert_error(response, 400, "invalid")
    assert field in response.data
    assert hint.lower() in str(response.data[field]).lower()
    assert not Incident.objects.exists()


def test_a_body_that_is_not_an_object_is_400(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/incidents/", ["title"], format="json")
    assert_error(response, 400, "invalid")


def test_malformed_json_is_400(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/incidents/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_patch_with_wrong_types_is_400(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).patch(
        f"/api/v1/incidents/{incident.number}/", {"users_affected": "several", "severity": "SEV0"}, format="json"
    )
    assert_error(response, 400, "invalid")
    assert set(response.data) >= {"users_affected", "severity"}


def test_patch_moving_impact_start_after_declaration_is_400(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).patch(
        f"/api/v1/incidents/{incident.number}/", {"started_at": "2999-01-01T00:00:00Z"}, format="json"
    )
    assert_error(response, 400, "invalid")
    assert "started_at" in response.data


@pytest.mark.parametrize(("query", "field"), [
    ({"status": "sleeping"}, "status"),
    ({"status": "triggered,sleeping"}, "status"),
    ({"severity": "SEV9"}, "severity"),
    ({"created_after": "last tuesday"}, "created_after"),
    ({"created_before": "2026-13-45"}, "created_before"),
    ({"page_size": "lots"}, "page_size"),
])
def test_bad_filters_are_400_naming_the_filter(api, alice, payments, query, field):
    response = api.as_user(alice).get("/api/v1/incidents/", query)
    assert_error(response, 400, "invalid")
    assert field in response.data


def test_a_page_past_the_end_is_404(api, alice, payments):
    assert_error(api.as_user(alice).get("/api/v1/incidents/", {"page": 9}), 404, "not_found")


def test_an_unknown_incident_number_is_404_saying_so(api, alice, payments):
    response = api.as_user(alice).get("/api/v1/incidents/INC-1999-0001/")
    assert_error(response, 404, "not_found")
    assert "INC-1999-0001" in response.data["detail"]


def test_incident_numbers_are_matched_whatever_their_case(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    assert api.as_user(alice).get(f"/api/v1/incidents/{incident.number.lower()}/").status_code == 200


def test_an_unknown_transition_is_404(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{incident.number}/explode/", format="json")
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_a_transition_is_post_only(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    assert_error(api.as_user(alice).get(f"/api/v1/incidents/{incident.number}/acknowledge/"), 405,
                 "method_not_allowed")


def test_a_transition_note_that_is_not_text_or_too_long_is_400(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    client = api.as_user(alice)
    path = f"/api/v1/incidents/{incident.number}/acknowledge/"
    assert_error(client.post(path, {"note": {"a": 1}}, format="json"), 400, "invalid")
    assert_error(client.post(path, {"note": "x" * 101}, format="json"), 400, "invalid")
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_illegal_transition_body_has_detail_code_status_and_allowed(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{incident.number}/close/", format="json")
    assert_error(response, 409, "illegal_transition")
    assert set(response.data) == {"detail", "code", "status", "allowed"}
    assert "Allowed now: acknowledge, resolve" in response.data["detail"]


@pytest.mark.parametrize(("tail", "body", "field"), [
    ("notes/", {"body": ""}, "body"),
    ("notes/", {"body": "   "}, "body"),
    ("notes/", {}, "body"),
    ("roles/", {"role": "captain", "user": "bob"}, "role"),
    ("roles/", {"role": "commander", "user": "nobody"}, "user"),
    ("roles/", {"role": "commander", "user": 42}, "user"),
    ("roles/", {"role": "commander"}, "user"),
    ("updates/", {"state": "panicking", "body": "x"}, "state"),
    ("updates/", {"state": "identified", "body": ""}, "body"),
    ("updates/", {"state": "identified", "body": "x", "public": "maybe"}, "public"),
])
def test_bad_sub_resource_input_is_400_naming_the_field(api, alice, bob, payments, tail, body, field):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{incident.number}/{tail}", body, format="json")
    assert_error(response, 400, "invalid")
    assert field in response.data


def test_deleting_an_unknown_role_is_404(api, alice, payments):
    incident = make_incident(team=payments, by=alice)
    assert_error(api.as_user(alice).delete(f"/api/v1/incidents/{incident.number}/roles/999999/"), 404, "not_found")


@pytest.mark.parametrize(("body", "field"), [
    ({"slug": "ledger", "name": "Ledger", "team": "payments", "runbook_url": "not a url"}, "runbook_url"),
    ({"slug": "checkout", "name": "Dup", "team": "payments"}, "slug"),
    ({"slug": "has spaces", "name": "x", "team": "payments"}, "slug"),
    ({"name": "Ledger", "team": "payments"}, "slug"),
])
def test_bad_service_input_is_400(api, alice, checkout, body, field):
    response = api.as_user(alice).post("/api/v1/services/", body, format="json")
    assert_error(response, 400, "invalid")
    assert field in response.data
