"""The library: published postmortems found by text (ranked on PostgreSQL, every word on SQLite) and by
filters, on its page and through the API's ``?q=``; and "similar past incidents" on an incident's page.

Alice leads payments, bob is in it, charlie is in search only: payments' postmortems do not exist for him.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.services import transition_incident, update_incident
from postmortems.models import FactorTag
from postmortems.queries import postmortem_of
from postmortems.services import (
    add_factor,
    start_postmortem,
    transition_postmortem,
    update_postmortem,
)
from tests.factories import (
    MembershipFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    make_incident,
)

from .conftest import MIN, T0

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def publish(team, author, reviewer, *, title, days_ago=0, sev="SEV3", services=(), category="other", factors=(),
            **text):
    """A resolved incident of ``team`` whose postmortem (``text``: its sections) is published, ``days_ago`` days
    before T0 + 30 days."""
    at = T0 - days_ago * DAY
    incident = make_incident(team=team, by=author, title=title, sev=sev, services=services, category=category, now=at)
    incident = transition_incident(incident=incident, transition="resolve", by=author, now=at + 30 * MIN)
    pm = postmortem_of(incident) or start_postmortem(incident=incident, by=author, now=at + 31 * MIN)
    pm = update_postmortem(postmortem=pm, by=author, version=pm.version, owner=author, **text)
    for name in factors:
        add_factor(postmortem=pm, tag=FactorTag.objects.get(name=name, team=None), description=f"{name} here",
                   by=author)
    for transition, by in (("submit", author), ("approve", reviewer), ("publish", author)):
        pm = transition_postmortem(postmortem=pm, transition=transition, by=by, now=at + 2 * DAY)
    return pm


@pytest.fixture
def on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's word match (PostgreSQL ranks instead)")


@pytest.fixture
def tags(db):
    for name in ("Deploy", "Capacity"):
        FactorTag.objects.get_or_create(name=name, team=None)


def numbers(html: str) -> list[str]:
    """The incident numbers of the library's results, in the order shown."""
    return re.findall(r"INC-\d{4}-\d{4}", html[html.index('id="library-results"'):])


def similar(html: str) -> str:
    """The incident page's "Similar past incidents" panel."""
    start = html.index('id="similar"')
    return html[start:html.index("</section>", start)]


def api_numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["incident"] for row in response.json()["results"]]


# --- Search --------------------------------------------------------------------------

def test_a_root_cause_match_ranks_above_a_body_only_match(on_postgres, client, api, payments, alice, bob):
    cause = publish(payments, bob, alice, title="Checkout errors", days_ago=30,
                    root_cause="The Kafka consumer group stalled after a rebalance.")
    body = publish(payments, bob, alice, title="Slow search", days_ago=1,  # newer, but only mentions it
                   summary="Search was slow.", went_well="We checked the kafka dashboards early.")
    publish(payments, bob, alice, title="DNS outage", root_cause="An expired DNS record.")
    client.force_login(bob)
    page = client.get("/postmortems/library/", {"q": "kafka"})
    assert numbers(page.content.decode()) == [cause.incident.number, body.incident.number]
    assert "best match first" in page.content.decode()
    assert api_numbers(api.as_user(bob).get("/api/v1/postmortems/", {"q": "kafka"})) == [
        cause.incident.number, body.incident.number]


def test_postgres_reads_the_query_as_a_web_search(on_postgres, api, payments, alice, bob):
    publish(payments, bob, alice, title="Disk full on db-1", root_cause="Logs filled the disk.")
    timeouts = publish(payments, bob, alice, title="Gateway timeouts", root_cause="A pool too small for the load.")
    client = api.as_user(bob)
    # Stemmed ("timeout" finds "timeouts"), "-" excludes, a quoted phrase must appear as one.
    assert api_numbers(client.get("/api/v1/postmortems/", {"q": "timeout"})) == [timeouts.incident.number]
    assert api_numbers(client.get("/api/v1/postmortems/", {"q": "disk -logs"})) == []
    assert api_numbers(client.get("/api/v1/postmortems/", {"q": '"too small"'})) == [timeouts.incident.number]


def test_the_search_follows_edits_to_the_text_and_to_the_incidents_title(on_postgres, api, payments, alice, bob):
    pm = publish(payments, bob, alice, title="Checkout errors", root_cause="The kafka consumer stalled.")
    client = api.as_user(bob)
    transition_postmortem(postmortem=pm, transition="reopen", by=bob)
    pm = update_postmortem(postmortem=pm, by=bob, version=pm.version, root_cause="A rabbitmq queue filled up.")
    assert api_numbers(client.get("/api/v1/postmortems/", {"q": "rabbitmq"})) == [pm.incident.number]
    assert api_numbers(client.get("/api/v1/postmortems/", {"q": "kafka"})) == []
    update_incident(incident=pm.incident, by=alice, title="Orders stuck in the broker")
    assert api_numbers(client.get("/api/v1/postmortems/", {"q": "broker stuck"})) == [pm.incident.number]


def test_sqlite_matches_every_word_in_any_case_newest_first(on_sqlite, client, payments, alice, bob):
    older = publish(payments, bob, alice, title="Checkout errors", days_ago=10,
                    root_cause="The KAFKA consumer stalled.", lessons="Watch the lag.")
    newer = publish(payments, bob, alice, title="Slow search", days_ago=1, went_well="kafka lag alerts fired.")
    publish(payments, bob, alice, title="Kafka upgrade", root_cause="A broker restarted.")  # no "lag"
    client.force_login(bob)
    page = client.get("/postmortems/library/", {"q": "kafka LAG"})
    assert numbers(page.content.decode()) == [newer.incident.number, older.incident.number]
    assert "best match first" in page.content.decode()


def test_every_word_must_appear(client, payments, alice, bob):
    both = publish(payments, bob, alice, title="Disk full on db-1", root_cause="Nobody rotated the logs.")
    publish(payments, bob, alice, title="Disk latency", root_cause="A noisy neighbour.")
    client.force_login(bob)
    page = client.get("/postmortems/library/", {"q": "disk logs"})
    assert numbers(page.content.decode()) == [both.incident.number]


def test_without_words_the_library_lists_published_postmortems_newest_first(client, payments, alice, bob,
                                                                             resolved_sev1):
    old = publish(payments, bob, alice, title="Old one", days_ago=20)
    new = publish(payments, bob, alice, title="New one", days_ago=2)
    client.force_login(bob)
    html = client.get("/postmortems/library/").content.decode()
    # The draft postmortem of resolved_sev1 is not in the library.
    assert numbers(html) == [new.incident.number, old.incident.number]
    assert resolved_sev1.number not in html
    assert "newest first" in html


def test_a_row_shows_the_root_cause_services_and_factors(client, payments, alice, bob, checkout, tags):
    publish(payments, bob, alice, title="Checkout errors", services=[checkout], factors=["Deploy"],
            root_cause="\n# Cause\n\nA bad deploy of the card tokenizer.")
    client.force_login(bob)
    html = client.get("/postmortems/library/").content.decode()
    assert "Cause" in html and "Checkout API" in html and '<span class="tag"' in html and "Deploy" in html


# --- Filters -------------------------------------------------------------------------

@pytest.fixture
def catalogue(payments, alice, bob, checkout, tags, sam):
    """Six published postmortems, each singled out by one filter; sam (staff) sees them all."""
    ledger = ServiceFactory(slug="ledger", name="Ledger", team=payments)
    infra = TeamFactory(slug="infra", name="Infra")
    return {
        "plain": publish(payments, bob, alice, title="Plain"),
        "service": publish(payments, bob, alice, title="Ledger drift", services=[ledger]),
        "category": publish(payments, bob, alice, title="Leak", category="security"),
        "severity": publish(payments, bob, alice, title="Big one", sev="SEV1"),
        "factor": publish(payments, bob, alice, title="Full disk", factors=["Capacity"]),
        "team": publish(infra, sam, UserFactory(username="ops", is_staff=True), title="Infra one"),
    }


@pytest.mark.parametrize(("param", "value", "key"), [
    ("team", "infra", "team"),
    ("service", "ledger", "service"),
    ("category", "security", "category"),
    ("severity", "SEV1", "severity"),
    ("factor", "Capacity", "factor"),
])
def test_each_filter_narrows_the_library_and_the_api(client, api, sam, catalogue, param, value, key):
    expected = [catalogue[key].incident.number]
    client.force_login(sam)
    assert numbers(client.get("/postmortems/library/", {param: value}).content.decode()) == expected
    assert api_numbers(api.as_user(sam).get("/api/v1/postmortems/", {param: value})) == expected


def test_the_factor_filter_ignores_case_in_the_api(api, sam, catalogue):
    assert api_numbers(api.as_user(sam).get("/api/v1/postmortems/", {"factor": "capacity"})) == [
        catalogue["factor"].incident.number]


def test_filters_and_words_combine(client, bob, catalogue):
    client.force_login(bob)
    page = client.get("/postmortems/library/", {"q": "disk", "factor": "Capacity", "team": "payments"})
    assert numbers(page.content.decode()) == [catalogue["factor"].incident.number]
    assert numbers(client.get("/postmortems/library/", {"q": "ledger", "factor": "Capacity"}).content.decode()) == []


def test_an_unknown_filter_value_is_a_400_saying_which(client, api, bob, catalogue):
    client.force_login(bob)
    page = client.get("/postmortems/library/", {"severity": "SEV9"})
    assert page.status_code == 400 and "Select a valid choice" in page.content.decode()
    client_api = api.as_user(bob)
    wrong = client_api.get("/api/v1/postmortems/", {"category": "meteor"})
    assert wrong.status_code == 400 and "Unknown category 'meteor'" in str(wrong.json())
    wrong = client_api.get("/api/v1/postmortems/", {"severity": "SEV9"})
    assert wrong.status_code == 400 and "Unknown severity 'SEV9'" in str(wrong.json())
    wrong = client_api.get("/api/v1/postmortems/", {"q": "x" * 201})
    assert wrong.status_code == 400 and "at most 200 characters" in str(wrong.json())


# --- Permissions ---------------------------------------------------------------------

def test_another_teams_published_postmortem_is_not_found(client, api, payments, alice, bob, charlie):
    secret = publish(payments, bob, alice, title="Card vault breach", root_cause="A leaked vault token.")
    client.force_login(charlie)
    html = client.get("/postmortems/library/", {"q": "vault"}).content.decode()
    assert secret.incident.number not in html and "No published postmortem matches" in html
    assert secret.incident.number not in client.get("/postmortems/library/").content.decode()
    assert api_numbers(api.as_user(charlie).get("/api/v1/postmortems/", {"q": "vault"})) == []
    assert client.get(f"/postmortems/{secret.pk}/").status_code == 404
    # The team filter offers only his teams; asking for payments anyway is refused.
    assert client.get("/postmortems/library/", {"team": "payments"}).status_code == 400


def test_the_library_needs_a_login(client):
    response = client.get("/postmortems/library/")
    assert response.status_code == 302 and "/login" in response["Location"]


# --- The page ------------------------------------------------------------------------

def test_the_library_is_linked_from_the_postmortem_list(client, bob):
    client.force_login(bob)
    assert 'href="/postmortems/library/"' in client.get("/postmortems/").content.decode()


def test_htmx_gets_only_the_results_and_the_pager_keeps_the_search(client, payments, alice, bob):
    for n in range(27):
        publish(payments, bob, alice, title=f"Disk full {n}", days_ago=n)
    client.force_login(bob)
    partial = client.get("/postmortems/library/", {"q": "disk"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith("<div id=\"library-results\">") and "<html" not in partial
    assert "q=disk&amp;page=2" in partial
    second = client.get("/postmortems/library/", {"q": "disk", "page": 2}).content.decode()
    assert len(numbers(second)) == 2 and "Page 2 of 2" in second


def test_the_library_costs_the_same_queries_with_few_or_many_rows(client, payments, alice, bob, checkout, tags,
                                                                  django_assert_max_num_queries):
    def fill(n, start):
        for i in range(n):
            publish(payments, bob, alice, title=f"Checkout errors {start + i}", services=[checkout],
                    factors=["Deploy", "Capacity"], root_cause="A bad deploy.", days_ago=start + i)

    fill(2, 0)
    client.force_login(bob)
    url = "/postmortems/library/?q=deploy&service=checkout&factor=Deploy&team=payments"
    with CaptureQueriesContext(connection) as few:
        assert len(numbers(client.get(url).content.decode())) == 2
    fill(8, 2)
    with django_assert_max_num_queries(len(few)):
        assert len(numbers(client.get(url).content.decode())) == 10
    with CaptureQueriesContext(connection) as api_queries:
        assert len(api_numbers(client.get("/api/v1/postmortems/?q=deploy&factor=deploy"))) == 10
    fill(3, 10)
    with django_assert_max_num_queries(len(api_queries)):
        assert len(api_numbers(client.get("/api/v1/postmortems/?q=deploy&factor=deploy"))) == 13


# --- Similar past incidents ----------------------------------------------------------

@pytest.fixture
def cart(payments):
    return ServiceFactory(slug="cart", name="Cart", team=payments)


def test_similar_past_incidents_nearest_first(client, payments, alice, bob, checkout, cart):
    ledger = ServiceFactory(slug="ledger", name="Ledger", team=payments)
    two_services = publish(payments, bob, alice, title="Both down", services=[checkout, cart], days_ago=300,
                           root_cause="\n- The shared Redis ran out of memory.\n- More.")
    service_and_category = publish(payments, bob, alice, title="Checkout outage", services=[checkout],
                                   category="outage", days_ago=200)
    service_only_new = publish(payments, bob, alice, title="Cart slow", services=[cart], days_ago=5)
    service_only_old = publish(payments, bob, alice, title="Checkout slow", services=[checkout], days_ago=50)
    category_only = publish(payments, bob, alice, title="Ledger outage", services=[ledger], category="outage")
    publish(payments, bob, alice, title="Unrelated", services=[ledger], category="security")
    now = make_incident(team=payments, by=alice, title="Checkout and cart down", services=[checkout, cart],
                        category="outage")
    client.force_login(alice)
    section = similar(client.get(f"/incidents/{now.number}/").content.decode())
    expected = [two_services, service_and_category, service_only_new, service_only_old, category_only]
    assert re.findall(r"INC-\d{4}-\d{4}", section) == [pm.incident.number for pm in expected]
    assert "Root cause: The shared Redis ran out of memory." in section
    assert f'href="/postmortems/{two_services.pk}/"' in section and "SEV3" in section
    assert '<span class="tz">Europe/Berlin</span>' in section  # alice's zone, labelled


def test_similar_shows_five_and_leaves_out_drafts_and_the_incident_itself(client, payments, alice, bob, checkout):
    for n in range(6):
        publish(payments, bob, alice, title=f"Checkout {n}", services=[checkout], days_ago=n + 1)
    itself = publish(payments, bob, alice, title="This one", services=[checkout])
    draft = make_incident(team=payments, by=alice, title="Draft one", services=[checkout], sev="SEV1", now=T0)
    transition_incident(incident=draft, transition="resolve", by=alice, now=T0 + MIN)
    client.force_login(bob)
    shown = re.findall(r"INC-\d{4}-\d{4}", similar(client.get(f"/incidents/{itself.incident.number}/").content.decode()))
    assert len(shown) == 5 and itself.incident.number not in shown and draft.number not in shown


def test_similar_shows_only_what_the_reader_may_see(client, payments, search_team, alice, bob, charlie, checkout,
                                                   sam):
    dana = UserFactory(username="dana")
    MembershipFactory(team=search_team, user=dana)
    theirs = publish(search_team, charlie, dana, title="Search hit checkout", services=[checkout])
    ours = make_incident(team=payments, by=alice, title="Checkout down", services=[checkout])
    client.force_login(bob)
    html = client.get(f"/incidents/{ours.number}/").content.decode()
    assert theirs.incident.number not in html and 'id="similar"' not in html  # nothing to show: no panel
    client.force_login(sam)
    assert theirs.incident.number in similar(client.get(f"/incidents/{ours.number}/").content.decode())


def test_the_incident_page_costs_the_same_queries_with_more_similar_incidents(
        client, payments, alice, bob, checkout, django_assert_max_num_queries):
    publish(payments, bob, alice, title="Checkout 0", services=[checkout])
    ours = make_incident(team=payments, by=alice, title="Checkout down", services=[checkout])
    client.force_login(bob)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/incidents/{ours.number}/").status_code == 200
    for n in range(6):
        publish(payments, bob, alice, title=f"Checkout {n + 1}", services=[checkout])
    with django_assert_max_num_queries(len(few)):
        assert len(re.findall(r"INC-\d{4}-\d{4}", similar(client.get(f"/incidents/{ours.number}/").content.decode()))) == 5


@pytest.mark.parametrize("q", ['"unbalanced', "!!:*&|", "-", "or", "a & b | !c", "\\", "'", "ünïcode ⚡", "a" * 200])
def test_odd_words_are_searched_never_a_500(client, api, payments, alice, bob, q):
    publish(payments, bob, alice, title="Checkout errors", root_cause="A bad deploy.")
    client.force_login(bob)
    assert client.get("/postmortems/library/", {"q": q}).status_code == 200
    assert api.as_user(bob).get("/api/v1/postmortems/", {"q": q}).status_code == 200
