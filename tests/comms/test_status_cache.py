"""The public status page is cacheable by everyone, served warm from Django's cache, and never stale.

Run with REDIS_URL set, the server's cache is Redis (as deployed); without, each process's memory.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import queries, status_cache
from comms.services import create_component, delete_component, update_component
from incidents.services import create_maintenance_window, post_status_update
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

JSON_PATHS = ["/status/api/v2/summary.json", "/status/api/v2/status.json", "/status/api/v2/components.json",
              "/status/api/v2/incidents/unresolved.json"]
ALL_PATHS = ["/status/", "/status/payments/", "/status/feed.atom", *JSON_PATHS]


@pytest.fixture
def public_incident(payments, alice, checkout, checkout_component):
    incident = make_incident(team=payments, by=alice, sev="SEV2", services=[checkout], title="Checkout errors")
    post_status_update(incident=incident, state="investigating", body="Payments fail for some customers.",
                       public=True, by=alice, now=timezone.now() - timedelta(minutes=10))
    return incident


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client, path, **headers):
    with CaptureQueriesContext(connection) as queries_run:
        response = client.get(path, **headers)
    response.queries = len(queries_run)
    return response


def vary(response) -> set:
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


@pytest.mark.parametrize("path", ALL_PATHS)
def test_a_reader_and_a_logged_in_person_get_the_same_publicly_cacheable_answer(alice, public_incident, path):
    # alice reads her other pages in Europe/Berlin; the public page is UTC for everyone.
    anonymous, member = Client().get(path), logged_in(alice).get(path)
    for response in (anonymous, member):
        assert response.status_code == 200
        assert response["Cache-Control"] == "public, max-age=30"
        assert "cookie" not in vary(response)
        assert not response.cookies  # no session refreshed, no CSRF cookie
    assert anonymous["ETag"] == member["ETag"] and anonymous["Last-Modified"] == member["Last-Modified"]
    assert anonymous.content == member.content


def test_times_on_the_page_are_utc_for_everyone(alice, public_incident):
    html = logged_in(alice).get("/status/").content.decode()
    assert "Times in UTC" in html and "Europe/Berlin" not in html


def test_other_pages_still_read_the_session(alice):
    response = logged_in(alice).get("/incidents/")
    assert response.status_code == 200 and "cookie" in vary(response)


@pytest.mark.parametrize("path", ALL_PATHS)
def test_a_repeat_request_is_served_from_the_cache_without_rendering(public_incident, path):
    client = Client()
    cold = get(client, path)
    warm = get(client, path)
    assert warm.status_code == 200 and warm.content == cold.content
    assert warm["Content-Type"] == cold["Content-Type"] and warm["ETag"] == cold["ETag"]
    assert warm.queries == 0 < cold.queries  # the version and the rendering both come from the cache


def test_a_change_that_shows_nothing_publicly_costs_the_version_not_a_render(alice, public_incident):
    client = Client()
    first = client.get("/status/")
    client.get("/status/")
    post_status_update(incident=public_incident, state="monitoring", body="INTERNAL", public=False, by=alice)
    again = get(client, "/status/")
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again.queries == 3  # queries.version's aggregates; the rendering is still the cached one


def test_a_new_public_update_shows_on_the_next_request(alice, public_incident):
    client = Client()
    client.get("/status/")
    assert "Watching." not in client.get("/status/").content.decode()  # cached
    post_status_update(incident=public_incident, state="monitoring", body="Watching.", public=True, by=alice)
    assert "Watching." in client.get("/status/").content.decode()
    assert "Watching." in client.get("/status/api/v2/summary.json").content.decode()
    assert "Watching." in client.get("/status/feed.atom").content.decode()


def test_an_internal_update_changes_nothing_public(alice, public_incident):
    client = Client()
    first = client.get("/status/")
    post_status_update(incident=public_incident, state="monitoring", body="INTERNAL", public=False, by=alice)
    again = client.get("/status/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_a_component_changed_added_or_deleted_shows_on_the_next_request(payments, alice, checkout_component):
    client = Client()
    client.get("/status/payments/")
    update_component(component=checkout_component, by=alice, name="Checkout and refunds",
                     status_override="major_outage")
    html = client.get("/status/payments/").content.decode()
    assert "Checkout and refunds" in html and "Major System Outage" in html
    extra = create_component(team=payments, name="Receipts", by=alice)
    assert "Receipts" in client.get("/status/").content.decode()
    delete_component(component=extra, by=alice)
    assert "Receipts" not in client.get("/status/").content.decode()
    assert "Receipts" not in client.get("/status/api/v2/components.json").content.decode()


@pytest.mark.parametrize("path", ALL_PATHS)
def test_a_conditional_request_is_answered_304_cold_and_warm(public_incident, path):
    client = Client()
    first = client.get(path)
    client.get(path)  # now in the server's cache
    for _ in range(2):
        again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and not again.content
        assert again["ETag"] == first["ETag"] and again["Cache-Control"] == "public, max-age=30"
    assert client.get(path, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_each_address_gets_its_own_links(public_incident):
    client = Client()
    here = client.get("/status/api/v2/summary.json").json()
    there = client.get("/status/api/v2/summary.json", HTTP_HOST="localhost").json()
    assert here["page"]["url"] == "http://testserver/status/"
    assert there["page"]["url"] == "http://localhost/status/"


def test_a_maintenance_window_coming_within_the_week_moves_the_version(alice, checkout, checkout_component):
    now = timezone.now()
    window = create_maintenance_window(service=checkout, starts_at=now + timedelta(days=7, hours=1),
                                       ends_at=now + timedelta(days=7, hours=2), by=alice)
    listed_at = window.starts_at - queries.MAINTENANCE_AHEAD
    assert queries.version(now=now).changed < listed_at <= queries.version(now=now + timedelta(hours=2)).changed


@override_settings(CACHES={"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}})
def test_the_page_is_served_when_the_cache_is_unreachable(public_incident, monkeypatch):
    monkeypatch.setattr(status_cache, "_skip_until", 0.0)  # restored after the test: others use the cache
    # Nothing listens on port 9 (discard): the first cache call fails, then the cache is left alone a while.
    for _ in range(3):
        response = Client().get("/status/")
        assert response.status_code == 200 and "Checkout errors" in response.content.decode()
    assert status_cache._skip_until > 0
