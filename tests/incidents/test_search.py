"""One incident search: the list page and the API's ``?q=`` find the same incidents."""

import re

import pytest

from incidents.models import Incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(payments, alice):
    """The three incidents, by a short name, and what each query must find (by those names)."""
    incidents = {
        "eu": make_incident(team=payments, by=alice, title="Checkout down in EU",
                            description="Rolled back release 42 at 10:05"),
        "slow": make_incident(team=payments, by=alice, title="Checkout slow",
                              description="Latency on the payment page"),
        "ledger": make_incident(team=payments, by=alice, title="Ledger drift",
                                description="Checkout totals disagree with the ledger"),
    }
    return incidents


QUERIES = {
    "checkout": {"eu", "slow", "ledger"},  # title or description, any case
    "checkout eu": {"eu"},  # every word, not the phrase
    "EU   CHECKOUT": {"eu"},  # in any order, any case, any spacing
    "release 42": {"eu"},  # words of the description
    "checkout ledger": {"ledger"},  # one word in the title, the other in the description
    "payment latency": {"slow"},
    "nothing-like-this": set(),
}


def _page_numbers(client, q: str) -> set[str]:
    page = client.get("/incidents/", {"q": q}).content.decode()
    return set(re.findall(r'id="row-(INC-\d{4}-\d+)"', page))


def _api_numbers(api, q: str) -> set[str]:
    return {row["number"] for row in api.get("/api/v1/incidents/", {"q": q}).data["results"]}


@pytest.mark.parametrize("q", list(QUERIES))
def test_the_list_page_and_the_api_find_the_same_incidents(q, found, client, api, bob):
    client.force_login(bob)
    api.as_user(bob)
    wanted = {found[name].number for name in QUERIES[q]}
    assert _page_numbers(client, q) == wanted
    assert _api_numbers(api, q) == wanted


def test_a_number_finds_its_incident_on_the_page_and_in_the_api(found, client, api, bob):
    client.force_login(bob)
    api.as_user(bob)
    number = found["ledger"].number
    for q in (number, number.lower(), f"ledger {number}"):
        assert _page_numbers(client, q) == _api_numbers(api, q) == {number}, q


def test_search_is_a_chainable_queryset_method(found, payments):
    titles = set(Incident.objects.for_team(payments).open().search("checkout eu").values_list("title", flat=True))
    assert titles == {"Checkout down in EU"}
    assert Incident.objects.search("   ").count() == 3
