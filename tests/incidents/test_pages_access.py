"""Who may open the incident pages: login required, outsiders get 404, staff see everything."""

import pytest

from incidents.models import Note, RoleAssignment, StatusUpdate
from incidents.services import assign_role
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def _pages(number, slug):
    return [
        "/", "/incidents/", "/incidents/new/", f"/incidents/{number}/", f"/incidents/{number}/edit/",
        "/services/", f"/services/{slug}/",
    ]


def test_every_page_sends_anonymous_visitors_to_the_login_page(client, alice, checkout):
    incident = make_incident(team=alice.teams.get(), by=alice)
    for url in _pages(incident.number, checkout.slug):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_login_page_logs_in_with_the_password_and_lands_on_the_dashboard(client, bob):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in page.content
    response = client.post("/accounts/login/", {"username": "bob", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    dashboard = client.get("/")
    assert "Bob Baker" in dashboard.content.decode()


def test_wrong_password_shows_an_error_on_the_login_page(client, bob):
    response = client.post("/accounts/login/", {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post_form_in_the_header(client, bob):
    client.force_login(bob)
    page = client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in page
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_outsider_gets_404_on_every_page_of_a_payments_incident(client, alice, charlie, checkout):
    incident = make_incident(team=checkout.team, by=alice, services=[checkout])
    assignment = assign_role(incident=incident, role="commander", user=alice, by=alice)
    client.force_login(charlie)
    n = incident.number
    for url in (f"/incidents/{n}/", f"/incidents/{n}/edit/", "/services/checkout/"):
        assert client.get(url).status_code == 404, url
    posts = {
        f"/incidents/{n}/transition/acknowledge/": {},
        f"/incidents/{n}/notes/": {"body": "hi"},
        f"/incidents/{n}/updates/": {"state": "investigating", "body": "hi"},
        f"/incidents/{n}/roles/": {"role": "scribe", "user": charlie.pk},
        f"/incidents/{n}/roles/{assignment.pk}/remove/": {},
        f"/incidents/{n}/edit/": {"title": "pwned", "severity": incident.severity.pk, "category": "other"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    incident.refresh_from_db()
    assert incident.status == "triggered" and incident.title == "Checkout is failing"
    assert not Note.objects.exists() and not StatusUpdate.objects.exists()
    assert RoleAssignment.objects.count() == 1


def test_outsider_does_not_see_payments_incidents_or_services_in_lists(client, alice, charlie, checkout):
    incident = make_incident(team=checkout.team, by=alice, title="Payments secret outage")
    client.force_login(charlie)
    for url in ("/", "/incidents/", "/services/", "/incidents/new/"):
        page = client.get(url).content.decode()
        assert incident.number not in page and "Payments secret outage" not in page, url
        assert "Checkout API" not in page, url


def test_staff_see_every_team_incident(client, alice, sam, checkout):
    incident = make_incident(team=checkout.team, by=alice, title="Seen by staff")
    client.force_login(sam)
    assert "Seen by staff" in client.get("/").content.decode()
    assert client.get(f"/incidents/{incident.number}/").status_code == 200
    page = client.get("/").content.decode()
    assert 'href="/admin/"' in page


def test_header_links_every_section(client, bob):
    client.force_login(bob)
    page = client.get("/").content.decode()
    for href in ('href="/"', 'href="/incidents/"', 'href="/incidents/new/"', 'href="/services/"',
                 'href="/oncall/"', 'href="/api/docs/"'):
        assert href in page
    assert 'href="/admin/"' not in page  # bob is not staff
    assert "js/htmx.min.js" in page and "defer" in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
