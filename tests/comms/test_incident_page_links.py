"""The incident page's promise of a public status page now leads to it."""

import pytest
from django.test import Client

from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def test_the_public_box_and_the_posted_message_link_to_the_status_page(payments, alice, checkout,
                                                                        checkout_component):
    incident = make_incident(team=payments, by=alice, services=[checkout], title="Checkout errors")
    client = Client()
    client.force_login(alice)
    page = client.get(f"/incidents/{incident.number}/").content.decode()
    assert 'Show it on the <a href="/status/">public status page</a>.' in page
    response = client.post(f"/incidents/{incident.number}/updates/",
                           {"state": "identified", "body": "Failing over", "public": "on"}, follow=True)
    assert 'Update posted on the status page. <a href="/status/">See it there</a>.' in response.content.decode()
    assert "Failing over" in Client().get("/status/").content.decode()
