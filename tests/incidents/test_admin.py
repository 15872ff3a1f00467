"""The admin: every model registered with history; status changes only through actions."""

import pytest
from django.contrib import admin
from django.urls import reverse

from incidents.models import Incident, Severity
from tests.factories import ensure_severities, make_incident, severity

pytestmark = pytest.mark.django_db


def test_every_vigil_model_is_registered_in_the_admin():
    from django.apps import apps

    missing = [
        model.__name__
        for app in ("oncall", "incidents", "alerts", "paging", "postmortems", "reporting")
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical") and model not in admin.site._registry
        and model.__name__ not in {"IncidentSequence", "SeverityPolicy"}  # the latter: an inline of services
    ]
    assert missing == []


def test_staff_see_every_admin_list_page(client, sam, payments, alice):
    make_incident(team=payments, by=alice)
    client.force_login(sam)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url


def test_status_is_read_only_in_the_incident_form(client, sam, payments, alice):
    incident = make_incident(team=payments, by=alice)
    client.force_login(sam)
    response = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert response.status_code == 200
    assert 'name="status"' not in response.content.decode()


def test_admin_action_acknowledges_through_the_service(client, sam, payments, alice):
    incident = make_incident(team=payments, by=alice)
    client.force_login(sam)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "transition_acknowledge", "_selected_action": [incident.pk]},
        follow=True,
    )
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.acknowledged_at is not None
    last = incident.history.latest()
    assert (last.history_user, last.history_change_reason) == (sam, "via admin")


def test_admin_action_reports_an_illegal_transition_without_changing_anything(client, sam, payments, alice):
    incident = make_incident(team=payments, by=alice)
    client.force_login(sam)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "transition_close", "_selected_action": [incident.pk]},
        follow=True,
    )
    assert "Cannot close" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_declaring_in_the_admin_numbers_the_incident_and_records_history(client, sam, payments, checkout):
    client.force_login(sam)
    response = client.post(reverse("admin:incidents_incident_add"), {
        "title": "Declared by an admin", "description": "", "severity": severity("SEV3").pk,
        "category": "other", "team": payments.pk, "services": [checkout.pk], "impact": "",
        "users_affected": "", "revenue_impact": "", "started_at_0": "", "started_at_1": "",
        "role_assignments-TOTAL_FORMS": "0", "role_assignments-INITIAL_FORMS": "0",
        "notes-TOTAL_FORMS": "0", "notes-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get(title="Declared by an admin")
    assert incident.number.startswith("INC-")
    assert incident.source == "admin"
    assert list(incident.services.values_list("slug", flat=True)) == ["checkout"]
    assert incident.history.latest().history_user == sam


@pytest.mark.parametrize("date, message", [
    ("0001-01-01", "outside the dates Vigil accepts"),
    ("2999-01-01", "cannot start in the future"),
])
def test_an_impossible_impact_start_in_the_admin_is_a_form_error(client, sam, payments, checkout, date, message):
    client.force_login(sam)
    response = client.post(reverse("admin:incidents_incident_add"), {
        "title": "Declared by an admin", "description": "", "severity": severity("SEV3").pk,
        "category": "other", "team": payments.pk, "services": [checkout.pk], "impact": "",
        "users_affected": "", "revenue_impact": "", "started_at_0": date, "started_at_1": "00:00:00",
        "role_assignments-TOTAL_FORMS": "0", "role_assignments-INITIAL_FORMS": "0",
        "notes-TOTAL_FORMS": "0", "notes-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200  # the form again, with the error
    assert message in str(response.context["adminform"].form.errors["started_at"])
    assert not Incident.objects.exists()


def test_the_last_severity_cannot_be_deleted_in_the_admin(client, sam):
    ensure_severities()
    client.force_login(sam)
    *others, last = Severity.objects.order_by("rank")
    for spare in others:  # unused severities go one at a time, from their own page
        response = client.post(reverse("admin:incidents_severity_delete", args=[spare.pk]), {"post": "yes"})
        assert response.status_code == 302
    assert list(Severity.objects.all()) == [last]
    assert client.post(reverse("admin:incidents_severity_delete", args=[last.pk]),
                       {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:incidents_severity_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert Severity.objects.filter(pk=last.pk).exists()
