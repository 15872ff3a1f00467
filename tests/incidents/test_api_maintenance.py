"""Maintenance windows through the API: leads plan them, within the dates Vigil accepts."""

import pytest

from incidents.models import MaintenanceWindow


def test_maintenance_windows_through_the_api(api, alice, bob, checkout):
    body = {"service": "checkout", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T12:00:00Z",
            "reason": "upgrade"}
    assert api.as_user(bob).post("/api/v1/maintenance-windows/", body, format="json").status_code == 403
    response = api.as_user(alice).post("/api/v1/maintenance-windows/", body, format="json")
    assert response.status_code == 201
    assert response.json()["created_by"] == "alice"
    bad = api.post("/api/v1/maintenance-windows/", {**body, "ends_at": "2030-01-01T09:00:00Z"}, format="json")
    assert bad.status_code == 400


@pytest.mark.parametrize("field, value", [("starts_at", "0001-01-01T00:00:00Z"), ("ends_at", "9999-12-31T23:00:00Z")])
def test_a_maintenance_window_beyond_the_dates_vigil_accepts_is_400(api, alice, checkout, field, value):
    body = {"service": "checkout", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T12:00:00Z", field: value}
    response = api.as_user(alice).post("/api/v1/maintenance-windows/", body, format="json")
    assert response.status_code == 400
    assert "outside the dates Vigil accepts" in response.json()[field][0]
    assert not MaintenanceWindow.objects.exists()
