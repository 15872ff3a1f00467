"""Dates in the incident list's query parameters are checked as dates in bodies are: never a 500."""

import pytest

from tests.factories import make_incident


@pytest.mark.parametrize("offset", ["%2B16:00", "-16:00", "%2B23:59", "-23:59"])
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_an_offset_postgresql_cannot_store_is_the_same_instant_in_utc(api, alice, payments, name, offset):
    incident = make_incident(team=payments, by=alice)
    response = api.as_user(alice).get(f"/api/v1/incidents/?{name}=2026-01-01T00:00:00{offset}")
    assert response.status_code == 200, response.content
    numbers = [row["number"] for row in response.json()["results"]]
    assert (incident.number in numbers) == (name == "created_after")


@pytest.mark.parametrize("value", ["1899-12-31T23:59:59Z", "9001-01-01T00:00:00Z", "0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_a_date_outside_the_years_vigil_accepts_is_a_400_saying_the_range(api, alice, payments, name, value):
    response = api.as_user(alice).get("/api/v1/incidents/", {name: value})
    assert response.status_code == 400, response.content
    assert "between the years 1900 and 9000" in response.json()["detail"]


def test_a_date_alone_means_its_midnight_utc(api, alice, payments):
    make_incident(team=payments, by=alice)
    response = api.as_user(alice).get("/api/v1/incidents/", {"created_after": "2000-01-01"})
    assert response.status_code == 200 and response.json()["count"] == 1
