"""A body sent chunked, without Content-Length, is refused with 411 and what to do, not read as empty."""

import json

import pytest

CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/v2/enqueue", "/api/v1/integrations/alertmanager/"])
def test_a_chunked_api_or_ingest_body_is_answered_411_naming_content_length(client, path):
    response = client.generic("POST", path, b"", content_type="application/json", **CHUNKED)
    assert response.status_code == 411
    body = json.loads(response.content)
    assert body["code"] == "length_required" and "Content-Length" in body["detail"]


def test_a_chunked_form_post_is_answered_411(client, alice):
    client.force_login(alice)
    response = client.generic("POST", "/incidents/new/", b"", content_type="application/x-www-form-urlencoded",
                              **CHUNKED)
    assert response.status_code == 411
    assert b"Content-Length" in response.content


def test_a_body_with_its_length_is_read_as_usual(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/incidents/", {"title": "Checkout 5xx", "severity": "SEV2",
                                                              "team": "payments"}, format="json")
    assert response.status_code == 201, response.content
