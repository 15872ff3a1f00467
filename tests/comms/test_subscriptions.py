"""Status page e-mail subscriptions: double opt-in, one-click unsubscribe, and nothing internal in any mail.

Mails go through Django's real SMTP backend to a fake relay (``smtp_server``); ``deliver_queued``
sends what the paging sweep would.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.services import AlertEvent, ingest_event
from comms.models import StatusSubscriber
from comms.services import create_component
from comms.subscribers import (
    confirm,
    confirm_token,
    subscribe,
    tell_status_subscribers,
    unsubscribe_token,
)
from incidents.services import add_note, post_status_update
from tests.factories import ServiceFactory, make_incident
from tests.paging.conftest import smtp_server  # noqa: F401 - the fake SMTP relay fixture

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://127\.0\.0\.1:8000(/status/(?:confirm|unsubscribe)/[^/\s]+/)")


@pytest.fixture
def anon():
    """A browser with no session that enforces CSRF like a real one: these pages must work without a token."""
    return Client(enforce_csrf_checks=True)


def mails_to(server, address: str) -> list:
    return [m for m in server.messages if m["To"] == address]


def links_in(mail, kind: str) -> list[str]:
    return [path for path in LINK.findall(mail.get_content()) if path.startswith(f"/status/{kind}/")]


def confirmed(email: str, team=None) -> StatusSubscriber:
    """A subscriber who followed the link (through the services, as the pages do)."""
    now = timezone.now()
    subscriber = subscribe(email=email, team=team, now=now)
    return confirm(confirm_token(subscriber, now), now=now)


@pytest.fixture
def incident(payments, alice, checkout, checkout_component):
    return make_incident(team=payments, by=alice, sev="SEV2", services=[checkout], title="Checkout errors")


def publish(incident, by, body="Payments fail for some customers.", state="investigating"):
    return post_status_update(incident=incident, state=state, body=body, public=True, by=by)


# --- Subscribing and confirming -------------------------------------------------------------------------

def test_the_status_page_has_a_subscribe_form_that_needs_no_script(anon, payments):
    for path, action in [("/status/", "/status/subscribe/"), ("/status/payments/", "/status/payments/subscribe/")]:
        html = anon.get(path).content.decode()
        assert f'<form method="post" action="{action}"' in html
        assert 'type="email"' in html and 'name="email"' in html and "Subscribe</button>" in html


def test_subscribing_by_form_mails_one_confirmation_whose_link_confirms_on_post_only(
        anon, smtp_server, deliver_queued):  # noqa: F811
    response = anon.post("/status/subscribe/", {"email": "  Dana@Example.COM "})
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    subscriber = StatusSubscriber.objects.get()
    assert (subscriber.email, subscriber.team, subscriber.confirmed_at) == ("dana@example.com", None, None)

    deliver_queued()
    [mail] = mails_to(smtp_server, "dana@example.com")
    assert mail["Subject"] == "Confirm your subscription to Vigil status"
    [link] = links_in(mail, "confirm")

    # A mail scanner fetching the link confirms nothing: the page has a button.
    for method in ("get", "head"):
        assert getattr(anon, method)(link).status_code == 200
    html = anon.get(link).content.decode()
    assert "Confirm subscription</button>" in html and 'method="post"' in html and "dana@example.com" in html
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None

    response = anon.post(link)  # no CSRF token: the signed link is the credential
    assert response.status_code == 200
    assert "You're subscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None
    # Following it again is harmless.
    assert anon.post(link).status_code == 200


def test_subscribing_by_json_to_a_team_page(anon, payments, smtp_server, deliver_queued):  # noqa: F811
    response = anon.post("/status/payments/subscribe/", {"email": "erin@example.com"}, content_type="application/json")
    assert response.status_code == 202
    assert response.json()["detail"].startswith("Check your inbox")
    assert StatusSubscriber.objects.get().team == payments

    deliver_queued()
    [mail] = mails_to(smtp_server, "erin@example.com")
    assert mail["Subject"] == "Confirm your subscription to Payments status"
    assert "http://127.0.0.1:8000/status/payments/" in mail.get_content()
    assert anon.post(links_in(mail, "confirm")[0]).status_code == 200
    assert StatusSubscriber.objects.get().confirmed_at is not None


def test_an_unknown_team_page_is_404(anon):
    assert anon.post("/status/nobody/subscribe/", {"email": "erin@example.com"}).status_code == 404
    response = anon.post("/status/nobody/subscribe/", {"email": "erin@example.com"}, content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not StatusSubscriber.objects.exists()


def test_an_address_already_confirmed_gets_no_mail_and_the_same_answer(anon, smtp_server, deliver_queued):  # noqa: F811
    confirmed("dana@example.com")
    deliver_queued()
    smtp_server.messages.clear()
    cache.clear()  # past the rate limit: only being confirmed keeps the mail from going

    fresh = anon.post("/status/subscribe/", {"email": "new@example.com"}, content_type="application/json")
    known = anon.post("/status/subscribe/", {"email": "DANA@example.com"}, content_type="application/json")
    assert (known.status_code, known.json()) == (fresh.status_code, fresh.json()) == (202, known.json())
    form_fresh = anon.post("/status/subscribe/", {"email": "other@example.com"}).content.decode()
    form_known = anon.post("/status/subscribe/", {"email": "dana@example.com"}).content.decode()
    assert form_known == form_fresh.replace("other@example.com", "dana@example.com")

    deliver_queued()
    assert mails_to(smtp_server, "dana@example.com") == []
    assert len(mails_to(smtp_server, "new@example.com")) == 1
    assert StatusSubscriber.objects.filter(email="dana@example.com").count() == 1


def test_confirmation_mails_are_rate_limited_per_address(anon, payments, search_team, smtp_server,  # noqa: F811
                                                         deliver_queued):
    for _ in range(3):
        assert anon.post("/status/subscribe/", {"email": "dana@example.com"}).status_code == 200
    deliver_queued()
    assert len(mails_to(smtp_server, "dana@example.com")) == 1, "one mail per address and page in 10 minutes"

    # Other pages may each send one, but an address gets at most three in the window.
    third_team = ServiceFactory(slug="ledger").team
    for path in ("/status/payments/", "/status/search/", f"/status/{third_team.slug}/"):
        assert anon.post(f"{path}subscribe/", {"email": "dana@example.com"}).status_code == 200
    deliver_queued()
    assert len(mails_to(smtp_server, "dana@example.com")) == 3
    assert StatusSubscriber.objects.filter(email="dana@example.com").count() == 4

    cache.clear()  # the window passed
    anon.post("/status/subscribe/", {"email": "dana@example.com"})
    deliver_queued()
    assert len(mails_to(smtp_server, "dana@example.com")) == 4


@pytest.mark.parametrize("email", ["", "not-an-address", "dana@", "a@b@c.com", "dana@example.com\nBcc: x@y.z",
                                   "x" * 250 + "@example.com", 42, None, ["dana@example.com"]])
def test_a_bad_address_is_a_400_that_says_so(anon, email):
    response = anon.post("/status/subscribe/", {"email": email}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["email"]
    assert "e-mail address" in body["detail"]
    assert not StatusSubscriber.objects.exists()


def test_a_bad_address_in_the_form_shows_the_form_again_with_the_message(anon):
    response = anon.post("/status/subscribe/", {"email": "not-an-address"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid e-mail address" in html and 'value="not-an-address"' in html
    assert not StatusSubscriber.objects.exists()


@pytest.mark.parametrize(("body", "content_type", "status"), [
    ("{not json", "application/json", 400),
    ('["dana@example.com"]', "application/json", 400),
    ('{"mail": "dana@example.com"}', "application/json", 400),
    ('{"email": "dana\\u0000@example.com"}', "application/json", 400),
    ('{"email": "\\ud800@example.com"}', "application/json", 400),
    ("email=dana@example.com", "text/plain", 415),
    ("", "", 415),
])
def test_a_bad_body_is_refused_with_a_message(anon, body, content_type, status):
    response = anon.generic("POST", "/status/subscribe/", body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["detail"]
    assert not StatusSubscriber.objects.exists()


# --- Telling subscribers --------------------------------------------------------------------------------

def test_a_public_update_mails_the_confirmed_subscribers_of_the_team_and_org_pages_with_only_public_text(
        payments, search_team, alice, checkout, checkout_component, events, smtp_server,  # noqa: F811
        deliver_queued):
    team_reader = confirmed("team-reader@example.com", payments)
    org_reader = confirmed("org-reader@example.com")
    confirmed("search-reader@example.com", search_team)
    subscribe(email="pending@example.com", team=payments)
    both = [confirmed("both@example.com", payments), confirmed("both@example.com")]
    deliver_queued()
    smtp_server.messages.clear()

    secrets = []

    def secret(text):
        secrets.append(text)
        return text

    # The incident comes from an alert; a second alert joins it.
    opened = ingest_event(integration=events, event=AlertEvent(
        action="trigger", dedup_key="db-1", summary="Checkout errors", details={"host": secret("ALERT-DETAIL-db-7")}))
    incident = opened.incident
    joined = ingest_event(integration=events, event=AlertEvent(
        action="trigger", dedup_key="db-2", group_key="db-1", summary=secret("ALERT-disk-full-on-db-7")))
    assert joined.incident == incident
    add_note(incident=incident, body=secret("NOTE-rollback-by-bob"), by=alice)
    post_status_update(incident=incident, state="investigating", body=secret("INTERNAL-UPDATE-watching"),
                       public=False, by=alice)
    secrets += ["Alice Archer", "alice@", "Bob Baker"]

    publish(incident, alice, body="Card payments fail for some customers.")
    deliver_queued()

    readers = ["team-reader@example.com", "org-reader@example.com", "both@example.com"]
    assert sorted(m["To"] for m in smtp_server.messages if m["To"].endswith("@example.com")
                  and m["To"] in readers + ["search-reader@example.com", "pending@example.com"]) == sorted(readers)
    for address in readers:
        [mail] = mails_to(smtp_server, address)
        text = mail.get_content()
        leaked = [s for s in secrets if s in text or s in mail["Subject"]]
        assert not leaked, f"the mail to {address} shows {leaked}"
        assert "Checkout errors" in mail["Subject"] and "Investigating" in mail["Subject"]
        assert "Card payments fail for some customers." in text
        assert "Affects: Checkout" in text
        assert f"#{incident.number}" in text
        [unsubscribe_link] = LINK.findall(mail["List-Unsubscribe"])
        # A long header is folded onto a second line; unfolded, it is the one link.
        assert mail["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8000{unsubscribe_link}>"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe_link in links_in(mail, "unsubscribe"), "the body carries the link too"

    [team_mail] = mails_to(smtp_server, "team-reader@example.com")
    assert team_mail["List-Unsubscribe"].endswith(f"/status/unsubscribe/{unsubscribe_token(team_reader)}/>")
    assert "http://127.0.0.1:8000/status/payments/#" in team_mail.get_content()
    [org_mail] = mails_to(smtp_server, "org-reader@example.com")
    assert org_mail["List-Unsubscribe"].endswith(f"/status/unsubscribe/{unsubscribe_token(org_reader)}/>")
    # Subscribed to both pages: one mail, with a link to leave each.
    [both_mail] = mails_to(smtp_server, "both@example.com")
    assert len(links_in(both_mail, "unsubscribe")) == 2
    assert {f"/status/unsubscribe/{unsubscribe_token(s)}/" for s in both} == set(links_in(both_mail, "unsubscribe"))


def test_an_internal_update_and_a_private_incident_mail_no_subscriber(payments, alice, checkout, incident,
                                                                      smtp_server, deliver_queued):  # noqa: F811
    confirmed("org-reader@example.com")
    confirmed("team-reader@example.com", payments)
    deliver_queued()
    smtp_server.messages.clear()

    # The incident has no public update: it is private, and so is this update.
    post_status_update(incident=incident, state="investigating", body="INTERNAL-UPDATE", public=False, by=alice)
    # A public update, then an internal one on the now public incident: only the public one goes out.
    publish(incident, alice, body="We are looking into it.")
    post_status_update(incident=incident, state="identified", body="INTERNAL-SECOND", public=False, by=alice)
    deliver_queued()

    for address in ("org-reader@example.com", "team-reader@example.com"):
        [mail] = mails_to(smtp_server, address)
        assert "We are looking into it." in mail.get_content() and "INTERNAL" not in mail.get_content()


def test_a_private_update_tells_nobody_even_when_called_directly(payments, alice, incident, smtp_server,  # noqa: F811
                                                                 deliver_queued):
    confirmed("org-reader@example.com")
    update = post_status_update(incident=incident, state="investigating", body="INTERNAL", public=False, by=alice)
    assert tell_status_subscribers(update=update, now=timezone.now()) == []


def test_another_teams_page_showing_the_incident_is_told_too(payments, search_team, alice, smtp_server,  # noqa: F811
                                                             deliver_queued):
    search_box = ServiceFactory(slug="search-box", name="Search box", team=search_team)
    create_component(team=search_team, name="Search", services=[search_box], by=None)
    confirmed("search-reader@example.com", search_team)
    deliver_queued()
    smtp_server.messages.clear()
    incident = make_incident(team=payments, by=alice, services=[search_box], title="Index lag")
    publish(incident, alice, body="Search results are stale.")
    deliver_queued()
    [mail] = mails_to(smtp_server, "search-reader@example.com")
    assert "Affects: Search" in mail.get_content() and "/status/search/#" in mail.get_content()


def test_unconfirmed_subscribers_get_no_update_mails(payments, alice, incident, smtp_server,  # noqa: F811
                                                     deliver_queued):
    subscribe(email="pending@example.com", team=payments)
    subscribe(email="pending-org@example.com")
    deliver_queued()
    smtp_server.messages.clear()
    publish(incident, alice)
    deliver_queued()
    assert mails_to(smtp_server, "pending@example.com") == mails_to(smtp_server, "pending-org@example.com") == []


def test_the_mails_are_queued_only_when_the_update_commits(payments, alice, incident,
                                                           django_capture_on_commit_callbacks):
    confirmed("org-reader@example.com")
    with django_capture_on_commit_callbacks() as callbacks:
        update = publish(incident, alice)
        rows = tell_status_subscribers(update=update, now=timezone.now())
    assert rows and all(r.status == "queued" for r in rows)
    assert callbacks, "delivery waits for the commit"


def test_telling_subscribers_runs_the_same_queries_for_two_or_forty(payments, alice, incident,
                                                                     django_capture_on_commit_callbacks):
    update = publish(incident, alice)

    def queries_for(count: int) -> int:
        for n in range(count):
            confirmed(f"reader-{count}-{n}@example.com", payments if n % 2 else None)
        with CaptureQueriesContext(connection) as ctx:
            rows = tell_status_subscribers(update=update, now=timezone.now())
        StatusSubscriber.objects.all().delete()
        assert len(rows) == count
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(40) <= 5


# --- Unsubscribing and bad links ------------------------------------------------------------------------

def test_one_click_unsubscribe_is_a_post_without_a_csrf_token(anon, payments):
    subscriber = confirmed("dana@example.com", payments)
    link = f"/status/unsubscribe/{unsubscribe_token(subscriber)}/"

    html = anon.get(link).content.decode()
    assert "Unsubscribe</button>" in html and "dana@example.com" in html
    assert StatusSubscriber.objects.filter(pk=subscriber.pk).exists(), "a GET unsubscribes nobody"

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", with no cookie.
    response = anon.post(link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "You're unsubscribed" in response.content.decode()
    assert not StatusSubscriber.objects.filter(pk=subscriber.pk).exists()
    # Again (a retrying mail client), and the page after: still fine.
    assert anon.post(link).status_code == 200
    assert "You're unsubscribed" in anon.get(link).content.decode()


def test_an_old_unsubscribe_link_does_not_remove_a_new_subscription(anon, payments):
    old = confirmed("dana@example.com", payments)
    link = f"/status/unsubscribe/{unsubscribe_token(old)}/"
    anon.post(link)
    new = confirmed("dana@example.com", payments)
    assert anon.post(link).status_code == 200
    assert StatusSubscriber.objects.filter(pk=new.pk).exists()


def test_tampered_links_are_a_clear_400(anon, payments):
    subscriber = subscribe(email="dana@example.com", team=payments)
    confirm_link = confirm_token(subscriber, timezone.now())
    unsubscribe_link = unsubscribe_token(subscriber)
    forged = [
        f"/status/confirm/{confirm_link[:-2]}xx/",
        f"/status/confirm/{unsubscribe_link}/",  # the other kind of link
        "/status/confirm/abc/",
        "/status/confirm/%E2%9C%93:%E2%9C%93/",
        f"/status/unsubscribe/{unsubscribe_link[:-2]}xx/",
        f"/status/unsubscribe/{confirm_link}/",
        "/status/unsubscribe/W10:nope/",
    ]
    for path in forged:
        for method in ("get", "post"):
            response = getattr(anon, method)(path)
            assert response.status_code == 400, path
            assert "Link not valid" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None


def test_an_expired_confirmation_link_says_so(anon, payments, smtp_server, deliver_queued):  # noqa: F811
    subscribe(email="dana@example.com", team=payments, now=timezone.now() - timedelta(days=8))
    deliver_queued()
    [link] = links_in(mails_to(smtp_server, "dana@example.com")[0], "confirm")
    for method in ("get", "post"):
        response = getattr(anon, method)(link)
        assert response.status_code == 400
        assert "expired" in response.content.decode()
    assert StatusSubscriber.objects.get().confirmed_at is None


def test_a_confirmation_link_of_a_cancelled_subscription_is_404(anon, payments):
    subscriber = subscribe(email="dana@example.com", team=payments)
    link = f"/status/confirm/{confirm_token(subscriber, timezone.now())}/"
    anon.post(f"/status/unsubscribe/{unsubscribe_token(subscriber)}/")
    response = anon.post(link)
    assert response.status_code == 404 and "no longer exists" in response.content.decode()


def test_the_admin_lists_subscribers_read_only(client, sam, payments):
    confirmed("dana@example.com", payments)
    client.force_login(sam)
    html = client.get("/admin/comms/statussubscriber/?q=dana").content.decode()
    assert "dana@example.com" in html
    assert client.get("/admin/comms/statussubscriber/add/").status_code == 403
