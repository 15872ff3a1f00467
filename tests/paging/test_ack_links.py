"""The one-click acknowledge link every page carries: a GET only shows, a POST acknowledges as the
person paged, and a forged, expired or foreign token is a 400 page, never a 500."""

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client

from incidents.queries import timeline
from incidents.services import acknowledge_incident, resolve_incident
from paging.links import SALT, ack_token
from paging.services.pages import page
from tests.paging.cockpit import *  # noqa: F403 - the cockpit's fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_page(incident, alice, bob):
    """Alice pages bob by hand; the e-mail he gets carries the link."""
    [notification] = page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    return notification


def link(notification) -> str:
    return f"/paging/ack/{ack_token(notification.pk)}/"


def refresh(incident):
    incident.refresh_from_db()
    return incident


def test_following_the_link_shows_the_incident_and_a_button_but_never_acknowledges(client, incident, bobs_page):
    for method in ("get", "head"):
        response = getattr(client, method)(link(bobs_page))
        assert response.status_code == 200
    response = client.get(link(bobs_page))
    html = response.content.decode()
    assert incident.number in html and "Checkout is failing" in html and "Payments" in html and "SEV2" in html
    assert "Acknowledge as Bob Baker" in html
    assert 'method="post"' in html and "data-auto-submit" in html, "a form the script submits, for a person"
    assert "/static/js/ack.js" in html
    assert "<script>" not in html, "no inline script: the CSP allows only Vigil's own files"
    assert refresh(incident).status == "triggered", "a mail scanner's GET must not stop the escalation"


def test_the_script_submits_the_form_on_load():
    from pathlib import Path

    source = Path("static/js/ack.js").read_text()
    assert 'form[data-auto-submit]' in source and ".submit()" in source


def test_posting_acknowledges_as_the_person_paged_without_a_login_or_csrf_token(incident, bobs_page, bob):
    client = Client(enforce_csrf_checks=True)  # the signed token is the credential
    response = client.post(link(bobs_page))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Acknowledged {incident.number} as Bob Baker" in html
    assert f'href="/accounts/login/?next=%2Fincidents%2F{incident.number}%2F"' in html
    assert "Log in to work it" in html
    incident = refresh(incident)
    assert incident.status == "acknowledged"
    acked = [e for e in timeline(incident) if e.kind == "status_changed"]
    assert acked[-1].actor == bob and "one-click link" in acked[-1].summary


def test_a_person_logged_in_as_themselves_lands_on_the_incident_acknowledged(client, incident, bobs_page, bob):
    client.force_login(bob)
    response = client.post(link(bobs_page))
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.number}/"
    page_html = client.get(response["Location"]).content.decode()
    assert f"Acknowledged {incident.number} as Bob Baker" in page_html
    assert refresh(incident).status == "acknowledged"


def test_logged_in_as_someone_else_it_still_acknowledges_as_the_person_paged(client, incident, bobs_page, alice, bob):
    client.force_login(alice)
    response = client.post(link(bobs_page))
    assert response.status_code == 200 and "as Bob Baker" in response.content.decode()
    assert refresh(incident).history.first().history_user == bob


def test_a_responder_from_another_team_acknowledges_from_the_link(incident, alice, ivan):
    [notification] = page(incident=incident, targets=[{"type": "user", "id": "ivan"}], by=alice)
    response = Client().post(link(notification))
    assert response.status_code == 200 and "as Ivan Ivanov" in response.content.decode()
    assert refresh(incident).status == "acknowledged"


def _signed_at(value, seconds_ago: int) -> str:
    """A token exactly as ``paging.links.ack_token`` makes it, but signed ``seconds_ago``."""
    class Then(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - seconds_ago)

    return Then(salt=SALT).sign_object(value, compress=False)


def test_an_expired_link_is_a_400_that_says_so(client, incident, bobs_page, settings):
    settings.PAGING_ACK_LINK_HOURS = 2
    fresh, stale = _signed_at(bobs_page.pk, 3600), _signed_at(bobs_page.pk, int(timedelta(hours=3).total_seconds()))
    assert client.get(f"/paging/ack/{fresh}/").status_code == 200, "an hour old, within two: still valid"
    for method in ("get", "post"):
        response = getattr(client, method)(f"/paging/ack/{stale}/")
        assert response.status_code == 400
        assert "invalid or has expired" in response.content.decode()
    assert refresh(incident).status == "triggered"


@pytest.mark.parametrize("forge", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),      # tampered signature
    lambda token: signing.dumps(1, compress=False),                      # signed, but not for acknowledging
    lambda token: signing.dumps("1", salt=SALT, compress=False),         # the right salt, not a notification id
    lambda token: "not-a-token",
])
def test_a_forged_or_foreign_token_is_a_400_and_acknowledges_nothing(client, incident, bobs_page, forge):
    token = forge(ack_token(bobs_page.pk))
    for method in ("get", "post"):
        response = getattr(client, method)(f"/paging/ack/{token}/")
        assert response.status_code == 400, (method, token)
        assert "invalid or has expired" in response.content.decode()
    assert refresh(incident).status == "triggered"


def test_a_link_to_a_deleted_page_is_a_400(client, incident, bobs_page):
    token = ack_token(bobs_page.pk)
    bobs_page.delete()
    assert client.get(f"/paging/ack/{token}/").status_code == 400


def test_an_incident_already_acknowledged_says_so_without_an_error(client, incident, bobs_page, alice, bob):
    acknowledge_incident(incident=incident, by=alice)
    response = client.get(link(bobs_page))
    html = response.content.decode()
    assert response.status_code == 200 and "is already acknowledged" in html
    assert "data-auto-submit" not in html and "ack.js" not in html, "nothing left to submit"
    response = client.post(link(bobs_page))
    assert response.status_code == 200
    assert f"{incident.number} is already acknowledged: nothing to acknowledge" in response.content.decode()
    client.force_login(bob)
    response = client.post(link(bobs_page), follow=True)
    assert response.redirect_chain[-1][0] == f"/incidents/{incident.number}/"
    assert "is already acknowledged" in response.content.decode()
    assert refresh(incident).history.filter(status="acknowledged").last().history_user == alice


def test_a_resolved_incident_says_so(client, incident, bobs_page, alice):
    resolve_incident(incident=incident, by=alice)
    response = client.post(link(bobs_page))
    assert response.status_code == 200 and "is already resolved" in response.content.decode()


def test_a_deactivated_persons_link_acknowledges_nothing(client, incident, bobs_page, bob):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    response = client.post(link(bobs_page))
    assert response.status_code == 400 and "deactivated" in response.content.decode()
    assert refresh(incident).status == "triggered"
