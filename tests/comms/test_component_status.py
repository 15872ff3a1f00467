"""A component's status comes from its services' public incidents and maintenance; the override wins."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from comms.queries import status_page
from comms.services import create_component, update_component
from incidents.services import create_maintenance_window, post_status_update, transition_incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def _statuses(team=None):
    return {view.component.name: view.status for view in status_page(team=team).components}


def _public(incident, by, body="We are looking into it.", **kwargs):
    return post_status_update(incident=incident, state="investigating", body=body, public=True, by=by, **kwargs)


@pytest.mark.parametrize(("sev", "status"), [
    ("SEV1", "major_outage"), ("SEV2", "partial_outage"), ("SEV3", "degraded_performance"),
    ("SEV4", "degraded_performance"),
])
def test_each_severity_sets_its_status(sev, status, payments, alice, checkout, checkout_component,
                                       gateway_component):
    _public(make_incident(team=payments, by=alice, sev=sev, services=[checkout]), alice)
    assert _statuses() == {"Checkout": status, "Card payments": "operational"}


def test_an_incident_without_a_public_update_changes_nothing(payments, alice, checkout, checkout_component):
    incident = make_incident(team=payments, by=alice, sev="SEV1", services=[checkout])
    post_status_update(incident=incident, state="investigating", body="internal", public=False, by=alice)
    assert _statuses() == {"Checkout": "operational"}


def test_the_worst_open_incident_wins(payments, alice, checkout, checkout_component):
    _public(make_incident(team=payments, by=alice, sev="SEV3", services=[checkout]), alice)
    _public(make_incident(team=payments, by=alice, sev="SEV2", services=[checkout]), alice)
    assert _statuses() == {"Checkout": "partial_outage"}
    sev1 = make_incident(team=payments, by=alice, sev="SEV1", services=[checkout])
    _public(sev1, alice)
    assert _statuses() == {"Checkout": "major_outage"}
    transition_incident(incident=sev1, transition="resolve", by=alice)
    assert _statuses() == {"Checkout": "partial_outage"}  # a resolved incident no longer counts


def test_maintenance_shows_when_no_incident_does(payments, alice, checkout, checkout_component):
    now = timezone.now()
    window = create_maintenance_window(service=checkout, starts_at=now - timedelta(minutes=5),
                                       ends_at=now + timedelta(hours=1), by=alice, reason="secret db upgrade")
    assert _statuses() == {"Checkout": "under_maintenance"}
    page = status_page()
    assert [w.pk for w in page.maintenances] == [window.pk]
    _public(make_incident(team=payments, by=alice, sev="SEV3", services=[checkout]), alice)
    assert _statuses() == {"Checkout": "degraded_performance"}


def test_future_maintenance_is_scheduled_not_active(payments, alice, checkout, checkout_component):
    now = timezone.now()
    create_maintenance_window(service=checkout, starts_at=now + timedelta(days=2),
                              ends_at=now + timedelta(days=2, hours=1), by=alice)
    create_maintenance_window(service=checkout, starts_at=now + timedelta(days=9),
                              ends_at=now + timedelta(days=9, hours=1), by=alice)
    page = status_page()
    assert _statuses() == {"Checkout": "operational"}
    assert len(page.maintenances) == 1  # the next 7 days only


def test_the_override_wins(payments, alice, checkout, checkout_component):
    _public(make_incident(team=payments, by=alice, sev="SEV1", services=[checkout]), alice)
    update_component(component=checkout_component, status_override="degraded_performance",
                     override_reason="mostly fine", by=alice)
    assert _statuses() == {"Checkout": "degraded_performance"}
    update_component(component=checkout_component, status_override="", override_reason="", by=alice)
    assert _statuses() == {"Checkout": "major_outage"}


def test_the_team_page_shows_only_its_components(payments, search_team, alice, checkout, checkout_component):
    create_component(team=search_team, name="Search", by=None)
    assert _statuses(payments) == {"Checkout": "operational"}
    assert _statuses() == {"Checkout": "operational", "Search": "operational"}


def test_the_uptime_row_has_90_days_coloured_by_the_worst_public_incident(payments, alice, checkout,
                                                                          checkout_component):
    now = timezone.now()
    old = make_incident(team=payments, by=alice, sev="SEV1", services=[checkout], now=now - timedelta(days=3))
    _public(old, alice, now=now - timedelta(days=3))
    transition_incident(incident=old, transition="resolve", by=alice, now=now - timedelta(days=3) + timedelta(minutes=30))
    [view] = status_page(now=now).components
    assert len(view.uptime) == 90
    assert view.uptime[-1].day == now.date() or view.uptime[-1].day == timezone.now().astimezone(
        timezone.get_fixed_timezone(0)).date()
    coloured = [d for d in view.uptime if d.status != "operational"]
    assert [d.status for d in coloured] in (["major_outage"], ["major_outage", "major_outage"])  # may cross midnight
    assert view.uptime_percent < 100


def test_only_managers_change_components(payments, bob, charlie, checkout):
    with pytest.raises(PermissionDenied):
        create_component(team=payments, name="Checkout", services=[checkout], by=bob)


def test_a_component_shows_only_its_own_teams_services(search_team, checkout):
    with pytest.raises(ValidationError, match="another team"):
        create_component(team=search_team, name="Search", services=[checkout], by=None)


def test_an_unknown_override_is_refused(payments):
    with pytest.raises(ValidationError, match="Unknown status"):
        create_component(team=payments, name="Checkout", status_override="on_fire", by=None)
