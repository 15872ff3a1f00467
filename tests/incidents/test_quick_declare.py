"""The dashboard's quick declare, and the dashboard and incident page refreshing themselves.

Quick declare: title, severity, team and "I'm the commander" (ticked by default): the declarer
commands the new incident and it starts acknowledged by them, all in one transaction.
"""

import pytest
from django.core.exceptions import ValidationError

from incidents.models import Incident, RoleAssignment, Severity
from incidents.queries import commander_of, timeline
from incidents.services.incident import quick_declare
from tests.factories import ensure_severities, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def sev1():
    ensure_severities()
    return Severity.objects.get(name="SEV1")


def test_dashboard_offers_the_quick_form_with_commander_ticked_and_the_full_form_beside_it(client, alice, sev1):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert 'id="quick-declare"' in html and 'action="/"' in html
    assert '<input type="checkbox" name="commander" aria-describedby="id_quick_commander_helptext" ' \
           'id="id_quick_commander" checked>' in html
    assert "I&#x27;m the commander" in html
    assert 'href="/incidents/new/"' in html, "the full form, linked beside it"


def test_quick_declare_as_commander_starts_acknowledged_by_the_declarer(client, alice, payments, sev1):
    client.force_login(alice)
    response = client.post("/", {"title": "Card payments failing", "severity": sev1.pk, "team": payments.pk,
                                 "commander": "on"})
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.number}/"
    assert incident.title == "Card payments failing" and incident.severity == sev1 and incident.team == payments
    assert incident.status == "acknowledged" and incident.acknowledged_at == incident.created_at
    assert commander_of(incident) == alice
    kinds = [(e.kind, e.actor) for e in timeline(incident)]
    assert ("role_assigned", alice) in kinds and ("status_changed", alice) in kinds
    page = client.get(response["Location"]).content.decode()
    assert "declared. You are its commander; it is acknowledged." in page


def test_quick_declare_as_commander_pages_nobody(client, alice, payments, sev1):
    from paging.models import EscalationRun, Notification
    from paging.services.escalation import sweep

    client.force_login(alice)
    client.post("/", {"title": "Card payments failing", "severity": sev1.pk, "team": payments.pk, "commander": "on"})
    sweep()
    assert EscalationRun.objects.get().state == "acknowledged"
    assert not Notification.objects.exists()


def test_unticked_it_is_declared_triggered_with_no_commander(client, alice, payments, sev1):
    client.force_login(alice)
    response = client.post("/", {"title": "Slow search", "severity": sev1.pk, "team": payments.pk})
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert incident.status == "triggered" and not RoleAssignment.objects.filter(incident=incident).exists()


@pytest.mark.parametrize("data, message", [
    ({"title": "", "severity": "", "team": ""}, "This field is required"),
    ({"title": "x", "severity": "999", "team": "PAYMENTS"}, "Select a valid choice"),
])
def test_a_bad_quick_declare_is_a_400_with_the_form_and_its_errors(client, alice, payments, sev1, data, message):
    client.force_login(alice)
    response = client.post("/", data)
    assert response.status_code == 400
    assert message in response.content.decode() and 'id="quick-declare"' in response.content.decode()
    assert not Incident.objects.exists()


def test_only_the_declarers_own_teams_are_offered(client, alice, charlie, search_team, payments, sev1):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert f'<option value="{payments.pk}" selected>Payments</option>' in html and "Search" not in html
    response = client.post("/", {"title": "x", "severity": sev1.pk, "team": search_team.pk, "commander": "on"})
    assert response.status_code == 400 and not Incident.objects.exists()


def test_it_is_all_or_nothing(alice, payments, sev1):
    # A deactivated declarer cannot take a role: nothing is left declared without its commander.
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    with pytest.raises(ValidationError):
        quick_declare(title="Half declared?", severity=sev1, team=payments, by=alice, commander=True)
    assert not Incident.objects.exists()


# --- Live refresh --------------------------------------------------------------------------------

def test_the_dashboard_list_refreshes_itself_as_a_fragment(client, alice, payments):
    incident = make_incident(team=payments, by=alice)
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert 'id="open-incidents" hx-get="/" hx-trigger="every 15s" hx-swap="outerHTML"' in html
    fragment = client.get("/", HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and body.lstrip().startswith('<div id="open-incidents"')
    assert "<html" not in body and "quick-declare" not in body and incident.number in body


def test_each_triggered_row_offers_acknowledge_which_comes_back_to_the_dashboard(client, alice, bob, payments):
    triggered = make_incident(team=payments, by=alice, title="Triggered one")
    acked = make_incident(team=payments, by=alice, title="Acknowledged one")
    client.force_login(bob)
    client.post(f"/incidents/{acked.number}/transition/acknowledge/")
    html = client.get("/").content.decode()
    assert f'action="/incidents/{triggered.number}/transition/acknowledge/"' in html
    assert f'action="/incidents/{acked.number}/transition/acknowledge/"' not in html
    assert '<input type="hidden" name="next" value="/">' in html
    response = client.post(f"/incidents/{triggered.number}/transition/acknowledge/", {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    triggered.refresh_from_db()
    assert triggered.status == "acknowledged" and triggered.history.first().history_user == bob
    assert f"{triggered.number} is now acknowledged" in client.get("/").content.decode()
    # With htmx the redirect is followed as htmx: the list alone comes back.
    response = client.post(f"/incidents/{triggered.number}/transition/acknowledge/", {"next": "/"},
                           HTTP_HX_REQUEST="true", follow=True)
    assert response.content.decode().lstrip().startswith('<div id="open-incidents"')
    assert "already acknowledged" in response.content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_next_goes_nowhere_off_the_site(client, alice, payments, target):
    incident = make_incident(team=payments, by=alice)
    client.force_login(alice)
    response = client.post(f"/incidents/{incident.number}/transition/acknowledge/", {"next": target})
    assert response["Location"] == f"/incidents/{incident.number}/"


def test_the_incident_page_refreshes_its_status_details_and_timeline_as_fragments(client, alice, bob, payments):
    incident = make_incident(team=payments, by=alice)
    client.force_login(alice)
    html = client.get(f"/incidents/{incident.number}/").content.decode()
    assert f'id="incident-head" hx-get="/incidents/{incident.number}/live/" hx-trigger="every 15s"' in html
    assert 'id="paging-live"' in html and f'hx-get="/incidents/{incident.number}/paging/"' in html
    client.force_login(bob)
    client.post(f"/incidents/{incident.number}/transition/acknowledge/")
    client.force_login(alice)
    response = client.get(f"/incidents/{incident.number}/live/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div class="page-head" id="incident-head"')
    assert '<section class="card" id="actions" hx-swap-oob="true">' in body
    assert '<section class="card" id="details" hx-swap-oob="true">' in body
    assert 'id="timeline-events" hx-swap-oob="true"' in body
    assert "status-acknowledged" in body and "Bob Baker" in body, "what bob did meanwhile shows"
    assert "Add note" not in body, "forms being typed in are not refreshed"
    without = client.get(f"/incidents/{incident.number}/live/")
    assert without.status_code == 302 and without["Location"] == f"/incidents/{incident.number}/"


def test_a_poll_after_the_session_expired_sends_the_whole_page_to_the_login(client, alice, payments):
    incident = make_incident(team=payments, by=alice)
    response = client.get(f"/incidents/{incident.number}/live/", HTTP_HX_REQUEST="true",
                          HTTP_HX_CURRENT_URL=f"http://testserver/incidents/{incident.number}/")
    assert response["HX-Redirect"] == f"/accounts/login/?next=/incidents/{incident.number}/"
    assert "login" not in response.content.decode()
    response = client.get("/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/accounts/login/")
