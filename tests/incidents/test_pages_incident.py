"""Declaring, reading, editing and driving an incident through its browser pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, Note, RoleAssignment, StatusUpdate
from incidents.services import assign_role, transition_incident
from tests.factories import ServiceFactory, TeamFactory, make_incident, severity

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(alice, checkout):
    return make_incident(team=checkout.team, by=alice, services=[checkout])


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


def _declare_data(team, **overrides):
    data = {
        "title": "Card payments declined", "severity": severity("SEV1").pk, "category": "outage",
        "team": team.pk, "description": "Acquirer returns 500s.", "impact": "Customers cannot pay.",
        "started_at": "", "users_affected": "1200", "revenue_impact": "5000.50", "customer_facing": "on",
    }
    data.update(overrides)
    return data


# --- Declare ---------------------------------------------------------------------

def test_declare_form_offers_only_my_teams_and_visible_services(bob_client, payments, checkout, charlie):
    ServiceFactory(slug="indexer", name="Indexer", team=charlie.teams.get())
    TeamFactory(slug="growth", name="Growth")
    page = bob_client.get("/incidents/new/").content.decode()
    assert "Payments" in page and "Checkout API" in page
    assert "Search" not in page and "Indexer" not in page and "Growth" not in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_declaring_creates_the_incident_and_redirects_to_its_page(bob_client, bob, payments, checkout):
    response = bob_client.post("/incidents/new/", _declare_data(payments, services=[checkout.pk]))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.number}/"
    assert incident.title == "Card payments declined" and incident.severity.name == "SEV1"
    assert incident.source == "form" and incident.declared_by == bob and incident.customer_facing
    assert incident.users_affected == 1200 and str(incident.revenue_impact) == "5000.50"
    assert list(incident.services.all()) == [checkout]
    page = bob_client.get(response["Location"]).content.decode()
    assert f"{incident.number} declared." in page
    assert "Card payments declined" in page and "Customers cannot pay." in page


def test_declare_form_errors_rerender_with_what_was_typed(bob_client, payments):
    response = bob_client.post("/incidents/new/", _declare_data(payments, title="", users_affected="-3",
                                                                description="Keep this text"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page
    assert "Ensure this value is greater than or equal to 0." in page
    assert "Keep this text" in page and "Customers cannot pay." in page
    assert not Incident.objects.exists()


def test_impact_start_in_the_future_is_refused_on_its_field(bob_client, payments):
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = bob_client.post("/incidents/new/", _declare_data(payments, started_at=future))
    assert response.status_code == 200
    assert "Impact cannot start in the future." in response.content.decode()
    assert not Incident.objects.exists()


def test_declaring_for_a_foreign_team_is_refused(bob_client, charlie):
    response = bob_client.post("/incidents/new/", _declare_data(charlie.teams.get()))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Incident.objects.exists()


# --- Incident page ---------------------------------------------------------------

def test_incident_page_shows_details_targets_and_legal_transitions(bob_client, incident):
    page = bob_client.get(f"/incidents/{incident.number}/").content.decode()
    assert incident.number in page and "Checkout is failing" in page
    assert "acknowledge within 15 min, resolve within 4 h" in page
    assert f'action="/incidents/{incident.number}/transition/acknowledge/"' in page
    assert f'href="/incidents/{incident.number}/resolve/"' in page  # resolving asks for a summary first
    assert "/transition/close/" not in page and "/transition/reopen/" not in page
    assert page.count('name="csrfmiddlewaretoken"') >= 6
    assert "{% block" not in page


@pytest.mark.parametrize(("path", "expected"), [
    (["acknowledge"], "acknowledged"),
    (["acknowledge", "investigate"], "investigating"),
    (["acknowledge", "identify"], "identified"),
    (["acknowledge", "investigate", "identify", "mitigate"], "monitoring"),
    (["resolve"], "resolved"),
    (["resolve", "close"], "closed"),
    (["resolve", "reopen"], "triggered"),
])
def test_every_transition_button_moves_the_incident(bob_client, alice, checkout, path, expected):
    # A SEV3: a SEV1 or SEV2 closes only once its postmortem is published (tests/postmortems/test_closing.py).
    incident = make_incident(team=checkout.team, by=alice, services=[checkout], sev="SEV3")
    for name in path:
        response = bob_client.post(f"/incidents/{incident.number}/transition/{name}/", {"note": f"via {name}"})
        assert response.status_code == 302
        assert response["Location"] == f"/incidents/{incident.number}/"
    incident.refresh_from_db()
    assert incident.status == expected
    page = bob_client.get(f"/incidents/{incident.number}/").content.decode()
    assert f"via {path[-1]}" in page  # the note is on the timeline


def test_a_stale_transition_shows_a_clear_message_not_a_500(bob_client, alice, incident):
    transition_incident(incident=incident, transition="acknowledge", by=alice)  # someone else was faster
    response = bob_client.post(f"/incidents/{incident.number}/transition/acknowledge/", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Could not acknowledge {incident.number}: it is already acknowledged." in page
    assert "Possible now: Investigating, Cause identified, Resolve." in page


def test_an_unknown_transition_is_an_error_message(bob_client, incident):
    response = bob_client.post(f"/incidents/{incident.number}/transition/explode/", follow=True)
    assert response.status_code == 200
    assert "Unknown transition" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_transition_pages_refuse_get(bob_client, incident):
    assert bob_client.get(f"/incidents/{incident.number}/transition/acknowledge/").status_code == 405


def test_htmx_transition_gets_the_page_body_back(bob_client, incident):
    response = bob_client.post(f"/incidents/{incident.number}/transition/acknowledge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="incident-body"' in page and "<html" not in page
    assert "is now acknowledged" in page and "/transition/investigate/" in page


def test_roles_assign_replace_and_remove_appear_on_the_timeline(bob_client, alice, bob, incident):
    url = f"/incidents/{incident.number}/roles/"
    assert bob_client.post(url, {"role": "commander", "user": alice.pk}).status_code == 302
    assert bob_client.post(url, {"role": "commander", "user": bob.pk}).status_code == 302  # replaces
    assignment = RoleAssignment.objects.get(incident=incident)
    assert assignment.user == bob
    remove = bob_client.post(f"/incidents/{incident.number}/roles/{assignment.pk}/remove/")
    assert remove.status_code == 302
    assert not RoleAssignment.objects.filter(incident=incident).exists()
    page = bob_client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Alice Archer is Incident commander" in page
    assert "Bob Baker is Incident commander" in page
    assert "Bob Baker is no longer Incident commander" in page


def test_role_select_offers_only_team_members(bob_client, charlie, incident):
    page = bob_client.get(f"/incidents/{incident.number}/").content.decode()
    # The role form's select (the paging panel's "Page" form offers everyone: paging an outsider in is its point).
    roles = page[page.index('id="roles"'):page.index('id="services"')]
    assert "Alice Archer" in roles and "Charlie Chen" not in roles
    response = bob_client.post(f"/incidents/{incident.number}/roles/", {"role": "scribe", "user": charlie.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not RoleAssignment.objects.exists()


def test_notes_are_added_and_shown_on_the_timeline(bob_client, incident):
    response = bob_client.post(f"/incidents/{incident.number}/notes/", {"body": "Rolled back deploy 42"},
                               follow=True)
    assert response.status_code == 200
    assert Note.objects.get().body == "Rolled back deploy 42"
    assert "Rolled back deploy 42" in response.content.decode()


def test_an_empty_note_shows_an_error_and_adds_nothing(bob_client, incident):
    response = bob_client.post(f"/incidents/{incident.number}/notes/", {"body": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Note.objects.exists()


def test_stakeholder_updates_are_posted(bob_client, incident):
    response = bob_client.post(f"/incidents/{incident.number}/updates/",
                               {"state": "identified", "body": "Acquirer outage, failing over", "public": "on"},
                               follow=True)
    update = StatusUpdate.objects.get()
    assert update.state == "identified" and update.public
    page = response.content.decode()
    assert "Update posted on the status page." in page
    assert "Acquirer outage, failing over" in page


def test_runbooks_of_affected_services_are_linked_and_rendered_safely(bob_client, alice, payments):
    service = ServiceFactory(
        slug="ledger", name="Ledger", team=payments, runbook_url="https://wiki.example.com/ledger",
        runbook="## Steps\n\n1. Check **replication**\n\n<script>alert('x')</script>\n",
    )
    incident = make_incident(team=payments, by=alice, services=[service])
    page = bob_client.get(f"/incidents/{incident.number}/").content.decode()
    assert 'href="https://wiki.example.com/ledger"' in page
    assert "<strong>replication</strong>" in page
    assert "<h5>Steps</h5>" in page  # the runbook's headings sit below the page's own
    assert "<script>alert" not in page
    assert 'href="/services/ledger/"' in page


def test_edit_form_changes_details_through_the_service(bob_client, incident, checkout):
    url = f"/incidents/{incident.number}/edit/"
    page = bob_client.get(url).content.decode()
    assert 'value="Checkout is failing"' in page
    response = bob_client.post(url, {
        "title": "Checkout failing in EU", "severity": severity("SEV1").pk, "category": "degradation",
        "services": [checkout.pk], "reason": "Scope narrowed",
    })
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.number}/"
    incident.refresh_from_db()
    assert incident.title == "Checkout failing in EU" and incident.severity.name == "SEV1"
    assert incident.category == "degradation" and incident.status == "triggered"
    detail = bob_client.get(response["Location"]).content.decode()
    assert "title Checkout is failing → Checkout failing in EU: Scope narrowed" in detail
    assert "severity SEV2 → SEV1: Scope narrowed" in detail


def test_an_invalid_edit_shows_the_form_again_with_the_error_and_what_was_typed(bob_client, incident):
    response = bob_client.post(f"/incidents/{incident.number}/edit/",
                               {"title": "", "severity": severity("SEV2").pk, "category": "other",
                                "description": "kept"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "kept" in response.content.decode()


def test_unknown_incident_is_404(bob_client, payments):
    assert bob_client.get("/incidents/INC-2000-0001/").status_code == 404


def test_assign_role_via_service_shows_commander_on_page(bob_client, alice, incident):
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    page = bob_client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Incident commander</strong>: Alice Archer" in page


def test_declare_form_makes_the_reporter_choose_a_severity(bob_client, payments):
    page = bob_client.get("/incidents/new/").content.decode()
    assert '<option value="" selected>Choose a severity</option>' in page
    data = _declare_data(payments, severity="")
    response = bob_client.post("/incidents/new/", data)
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Incident.objects.exists()
