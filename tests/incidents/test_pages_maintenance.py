"""A service's maintenance page: leads plan and end windows; the page works whatever is typed."""

import pytest

from incidents.models import MaintenanceWindow


def test_lead_plans_and_ends_maintenance_from_the_page(client, alice, checkout):
    client.force_login(alice)
    client.post("/services/checkout/maintenance/", {"starts_at": "2030-01-01T10:00",
                                                     "ends_at": "2030-01-01T12:00", "reason": "DB upgrade"})
    window = MaintenanceWindow.objects.get()
    assert window.reason == "DB upgrade"
    assert "DB upgrade" in client.get("/services/checkout/maintenance/").content.decode()
    client.post("/services/checkout/maintenance/", {"action": "end", "window": window.pk})
    assert not MaintenanceWindow.objects.exists()  # had not started: removed


@pytest.mark.parametrize("window", ["abc", "", "1.5", "99999999999999999999", "²"])
def test_ending_a_window_that_is_not_there_is_404(client, alice, checkout, window):
    client.force_login(alice)
    response = client.post("/services/checkout/maintenance/", {"action": "end", "window": window})
    assert response.status_code == 404


def test_a_maintenance_window_in_year_one_is_a_form_error_and_the_page_still_works(client, alice, checkout):
    alice.timezone = "Europe/Berlin"  # year 1 here is year 0 in UTC: stored, it could never be read back
    alice.save()
    client.force_login(alice)
    response = client.post("/services/checkout/maintenance/", {
        "starts_at": "0001-01-01T00:00", "ends_at": "2030-01-01T12:00"})
    assert response.status_code == 200
    assert "outside the dates Vigil accepts" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()
    assert client.get("/services/checkout/maintenance/").status_code == 200


def test_alert_times_are_in_the_readers_zone_labelled_with_the_teams_beside(client, checkout, alice, events):
    """Alice reads in Europe/Oslo; her team keeps Europe/Berlin time, which reads the same: one label."""
    from alerts.services import AlertEvent, ingest_event

    alice.timezone = "America/New_York"
    alice.save(update_fields=["timezone"])
    ingest_event(integration=events, event=AlertEvent(action="trigger", dedup_key="k", summary="Disk full",
                                                      source="db1", severity="error"))
    client.force_login(alice)
    page = client.get("/services/checkout/alerts/").content.decode()
    assert "America/New_York" in page and "team time" in page


def test_members_see_the_windows_and_outsiders_get_404(client, alice, bob, charlie, checkout):
    client.force_login(alice)
    client.post("/services/checkout/maintenance/", {"starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T12:00",
                                                    "reason": "DB upgrade"})
    client.force_login(bob)
    page = client.get("/services/checkout/maintenance/")
    assert "DB upgrade" in page.content.decode() and "Plan maintenance" not in page.content.decode()
    assert client.post("/services/checkout/maintenance/", {"starts_at": "2030-01-02T10:00",
                                                           "ends_at": "2030-01-02T12:00"}).status_code == 403
    client.force_login(charlie)
    assert client.get("/services/checkout/maintenance/").status_code == 404


def test_the_maintenance_page_runs_a_constant_number_of_queries(client, alice, checkout,
                                                                django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from incidents.services import create_maintenance_window

    client.force_login(alice)
    with django_assert_max_num_queries(12) as few:
        client.get("/services/checkout/maintenance/")
    start = timezone.now() + timedelta(days=1)
    for i in range(15):
        create_maintenance_window(service=checkout, starts_at=start + timedelta(days=i),
                                  ends_at=start + timedelta(days=i, hours=2), by=alice, reason=f"w{i}")
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        assert client.get("/services/checkout/maintenance/").content.decode().count("w1") >= 1
