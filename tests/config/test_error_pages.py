"""With DEBUG off, error pages, password pages and a GET of an action's URL are Vigil pages, not bare text."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.defaults import server_error

from tests.factories import make_incident

pytestmark = pytest.mark.django_db

STYLESHEET = "css/vigil.css"


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def test_404_is_a_styled_page(client, production, alice):
    client.force_login(alice)

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert STYLESHEET in page and "<h1>Not found</h1>" in page and "Back to the dashboard" in page


def test_api_404_stays_json(client, production):
    response = client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_403_is_a_styled_page_saying_why(client, production, bob):
    client.force_login(bob)  # a member, not a lead

    response = client.get("/oncall/teams/payments/rotations/new/")

    assert response.status_code == 403
    page = response.content.decode()
    assert STYLESHEET in page and "Only the leads and managers of team payments may create rotations." in page


def test_500_renders_without_a_request_or_the_database(production, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/"))
        standalone = render_to_string("500.html")

    assert response.status_code == 500
    page = response.content.decode()
    assert STYLESHEET in page and "Something went wrong" in page and page == standalone


@pytest.mark.parametrize("url, heading", [
    ("/accounts/password_reset/", "Reset your password"),
    ("/accounts/password_reset/done/", "Check your e-mail"),
    ("/accounts/reset/MQ/set-password/", "This link no longer works"),
    ("/accounts/reset/done/", "Password set"),
])
def test_password_reset_pages_are_vigil_pages(client, production, url, heading):
    page = client.get(url).content.decode()

    assert f"<h1>{heading}</h1>" in page and STYLESHEET in page
    assert "Django" not in page


def test_password_reset_link_leads_to_a_vigil_form(client, production, alice):
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)

    response = client.get(f"/accounts/reset/{uid}/{token}/", follow=True)

    page = response.content.decode()
    assert "<h1>Choose a new password</h1>" in page and 'name="new_password1"' in page and "Django" not in page


@pytest.mark.parametrize("url, heading", [
    ("/accounts/password_change/", "Change your password"),
    ("/accounts/password_change/done/", "Password changed"),
])
def test_password_change_pages_are_vigil_pages(client, production, alice, url, heading):
    client.force_login(alice)

    page = client.get(url).content.decode()

    assert f"<h1>{heading}</h1>" in page and "Django" not in page


def test_get_of_a_transition_url_explains_to_use_the_button(client, production, alice, payments):
    incident = make_incident(team=payments, by=alice)
    client.force_login(alice)

    response = client.get(f"/incidents/{incident.number}/transition/acknowledge/")

    assert response.status_code == 405 and response["Allow"] == "POST"
    page = response.content.decode()
    assert "Use the button" in page and f'href="/incidents/{incident.number}/"' in page
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_get_of_an_on_call_form_url_links_back_to_the_team(client, production, alice, payments):
    client.force_login(alice)

    response = client.get("/oncall/teams/payments/overrides/new/")

    assert response.status_code == 405 and response["Allow"] == "POST"
    assert 'href="/oncall/teams/payments/"' in response.content.decode()


def test_api_405_is_left_alone(client, alice, payments):
    incident = make_incident(team=payments, by=alice)
    client.force_login(alice)

    response = client.get(f"/api/v1/incidents/{incident.number}/acknowledge/")

    assert response.status_code == 405 and response["Content-Type"] == "application/json"
