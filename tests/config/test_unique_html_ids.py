"""Every page a person can reach has each HTML id once, and each label points at a field that exists.

Two fields with one id make a label focus the wrong box (the incident page's
"Update" label used to focus the Note box: both were ``id_body``). The pages
are built with real objects, so lists, forms and their rows all render.
"""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from alerts.services import create_integration
from incidents.services import add_note, assign_role, post_status_update
from oncall.services import create_override, create_rotation, request_swap, write_handoff_note
from tests.factories import MembershipFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.references: list[tuple[str, str]] = []  # (attribute, id it names)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.references.append(("label for", attrs["for"]))
        for name in ("aria-describedby", "aria-labelledby"):
            for ref in (attrs.get(name) or "").split():
                self.references.append((name, ref))

    handle_startendtag = handle_starttag


def _check(url: str, html: str) -> None:
    parser = _Ids()
    parser.feed(html)
    repeated = sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    assert not repeated, f"{url}: ids used more than once: {repeated}"
    dangling = [(attr, ref) for attr, ref in parser.references if ref not in parser.ids]
    assert not dangling, f"{url}: references to missing ids: {dangling}"


def _rotation(team, name, layer, participants, first):
    return create_rotation(team=team, name=name, layer=layer, participants=participants, shift_length="P7D",
                           handoff_at=first.replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None),
                           timezone=team.timezone)


@pytest.fixture
def world(alice, bob, payments, checkout):
    """A team with two layers, an override, a swap, a hand-off note, an integration and a busy incident."""
    now = timezone.now()
    nora = UserFactory(username="nora", full_name="Nora North", timezone="America/New_York")
    MembershipFactory(team=payments, user=nora)
    rotation = _rotation(payments, "Payments primary", "primary", [alice, bob, nora], now - timedelta(days=10))
    _rotation(payments, "Payments secondary", "secondary", [nora, alice], now - timedelta(days=9))
    create_override(rotation=rotation, user=bob, start=now + timedelta(days=2), end=now + timedelta(days=3))
    request_swap(rotation=rotation, requester=alice, recipient=bob, start=now + timedelta(days=5),
                 end=now + timedelta(days=6))
    write_handoff_note(rotation=rotation, author=alice, body="Watch the nightly export.")
    integration, _key = create_integration(service=checkout, kind="events_v2", name="Prometheus", by=alice)
    incident = make_incident(team=checkout.team, by=alice, services=[checkout])
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    add_note(incident=incident, body="Looking at the dashboards.", by=bob)
    post_status_update(incident=incident, state="investigating", body="We are on it.", public=False, by=alice)
    return {"incident": incident, "integration": integration}


def _pages(world) -> list[tuple[str, int]]:
    number = world["incident"].number
    return [
        *((url, 200) for url in (
            "/", "/incidents/", "/incidents/?status=open&q=checkout", "/incidents/new/",
            f"/incidents/{number}/", f"/incidents/{number}/edit/",
            "/services/", "/services/checkout/", "/services/checkout/alerts/", "/services/checkout/integrations/",
            f"/services/checkout/integrations/{world['integration'].pk}/",
            "/oncall/", "/oncall/me/", "/oncall/teams/payments/", "/oncall/teams/payments/load/",
            "/accounts/password_change/", "/accounts/password_change/done/",
        )),
        (f"/incidents/{number}/transition/acknowledge/", 405),  # a GET of a form's URL
        ("/no/such/page/", 404),
    ]


def test_every_page_of_a_lead_has_unique_ids(client, world, alice):
    client.force_login(alice)

    for url, status in [*_pages(world), ("/oncall/teams/payments/rotations/new/", 200)]:
        response = client.get(url)
        assert response.status_code == status, url
        _check(url, response.content.decode())


def test_every_page_of_a_member_has_unique_ids(client, world, bob):
    client.force_login(bob)

    for url, status in [*_pages(world), ("/oncall/teams/payments/rotations/new/", 403)]:
        response = client.get(url)
        assert response.status_code == status, url
        _check(url, response.content.decode())


def test_incident_page_with_form_errors_has_unique_ids(client, world, bob):
    client.force_login(bob)
    number = world["incident"].number

    for url in (f"/incidents/{number}/notes/", f"/incidents/{number}/updates/", f"/incidents/{number}/roles/"):
        response = client.post(url, {})
        assert response.status_code == 200, url
        _check(url, response.content.decode())


@pytest.mark.parametrize("url", [
    "/accounts/login/", "/accounts/password_reset/", "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/", "/accounts/reset/done/", "/no/such/page/",
])
def test_every_page_without_a_login_has_unique_ids(client, db, url):
    _check(url, client.get(url).content.decode())


def test_logged_out_page_has_unique_ids(client, alice):
    client.force_login(alice)

    _check("/accounts/logout/", client.post("/accounts/logout/").content.decode())
