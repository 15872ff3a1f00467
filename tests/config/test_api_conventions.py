"""Conventions every endpoint shares: JSON 404s under /api/, races answered with 409."""

import pytest
from django.db import IntegrityError
from rest_framework.test import APIRequestFactory

from config.api import exception_handler

pytestmark = pytest.mark.django_db


def test_unknown_api_path_is_a_json_404_that_points_to_the_docs(api, alice):
    response = api.as_user(alice).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No API endpoint at /api/v1/no-such-thing/; see /api/docs/ for the list.",
        "code": "not_found",
    }


def test_unknown_transition_name_is_a_json_404(api, alice, payments):
    from tests.factories import make_incident

    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{incident.number}/explode/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_lost_uniqueness_race_is_a_409_not_a_500():
    request = APIRequestFactory().post("/api/v1/teams/payments/members/")
    response = exception_handler(IntegrityError("duplicate key"), {"request": request})
    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert "try again" in response.data["detail"]


@pytest.mark.django_db
def test_the_api_docs_answer_get_and_refuse_other_methods_with_405(client, alice):
    client.force_login(alice)
    assert client.get("/api/docs/").status_code == 200
    for method in ("options", "post", "delete"):
        response = getattr(client, method)("/api/docs/")
        assert response.status_code == 405, method
        assert "GET" in response["Allow"]
