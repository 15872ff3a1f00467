"""An integration's endpoint URL, on its page and in the API: under SITE_URL, else where the reader reached Vigil."""

import pytest

from alerts.services import create_integration

pytestmark = pytest.mark.django_db


def test_without_site_url_the_api_gives_the_endpoint_under_the_requests_own_address(api, alice, checkout, settings):
    settings.SITE_URL = ""
    api.as_user(alice)

    created = api.post("/api/v1/integrations/", {"service": "checkout", "kind": "webhook", "name": "Cron"},
                       format="json", HTTP_HOST="localhost:8443", secure=True).json()
    listed = api.get("/api/v1/integrations/", HTTP_HOST="localhost:8443", secure=True).json()["results"][0]

    assert created["endpoint"] == f"https://localhost:8443/api/v1/integrations/webhook/{created['key']}/"
    assert listed["endpoint"] == "https://localhost:8443/api/v1/integrations/webhook/<key>/"


def test_without_site_url_the_page_gives_the_endpoint_under_the_requests_own_address(client, alice, checkout,
                                                                                     settings):
    settings.SITE_URL = ""
    integration, _ = create_integration(service=checkout, kind="events_v2", name="PD", by=alice)
    client.force_login(alice)

    page = client.get(f"/services/checkout/integrations/{integration.pk}/", HTTP_HOST="localhost:8000").content

    assert b"<code>http://localhost:8000/v2/enqueue</code>" in page
    assert b"127.0.0.1:8000" not in page


def test_site_url_wins_when_it_is_set(api, client, alice, checkout, settings):
    settings.SITE_URL = "https://vigil.example.com"
    integration, _ = create_integration(service=checkout, kind="alertmanager", name="AM", by=alice)
    client.force_login(alice)

    page = client.get(f"/services/checkout/integrations/{integration.pk}/", HTTP_HOST="localhost:8000").content
    body = api.as_user(alice).get(f"/api/v1/integrations/{integration.pk}/", HTTP_HOST="localhost").json()

    assert b"<code>https://vigil.example.com/api/v1/integrations/alertmanager/</code>" in page
    assert body["endpoint"] == "https://vigil.example.com/api/v1/integrations/alertmanager/"
