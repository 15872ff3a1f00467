import pytest
from datetime import timedelta
from django.utils import timezone
from tests.factories import ensure_severities, make_incident
from incidents.services import assign_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

def test_shots(page, live_server, bob, alice, checkout):
    ensure_severities()
    now = timezone.now()
    for i, sev in enumerate(["SEV1", "SEV2", "SEV2", "SEV4"]):
        inc = make_incident(team=checkout.team, by=alice, title=f"Something broke in the payment flow number {i}", sev=sev, services=[checkout], now=now - timedelta(minutes=7 * i + 3))
        if i % 2:
            assign_role(incident=inc, role="commander", user=alice, by=alice)
    page.goto(f"{live_server.url}/accounts/login/")
    page.screenshot(path="/tmp/shot-login.png", full_page=True)
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    for w in (390, 1280):
        page.set_viewport_size({"width": w, "height": 800})
        page.goto(f"{live_server.url}/")
        page.screenshot(path=f"/tmp/shot-dash-{w}.png", full_page=True)
        page.goto(f"{live_server.url}/incidents/")
        page.screenshot(path=f"/tmp/shot-list-{w}.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/incidents/new/")
    page.get_by_role("button", name="Declare").click()
    page.screenshot(path="/tmp/shot-new-390.png", full_page=True)
    page.goto(f"{live_server.url}/services/checkout/")
    page.screenshot(path="/tmp/shot-service-390.png", full_page=True)
