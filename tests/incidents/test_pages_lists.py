"""Dashboard, incident list and services pages: what they show, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import assign_role, transition_incident
from tests.factories import MembershipFactory, ServiceFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


# --- Dashboard -------------------------------------------------------------------

def _row(page: str, incident) -> str:
    return page.split(f'id="row-{incident.number}"')[1].split("</li>")[0]


def test_dashboard_shows_ack_overdue_and_time_left(bob_client, alice, payments):
    now = timezone.now()
    late = make_incident(team=payments, by=alice, title="Late one", sev="SEV2", now=now - timedelta(minutes=27))
    fresh = make_incident(team=payments, by=alice, title="Fresh one", sev="SEV2", now=now - timedelta(minutes=5))
    page = bob_client.get("/").content.decode()
    late_row = _row(page, late)
    fresh_row = _row(page, fresh)
    # SEV2: acknowledge within 15 min, resolve within 4 h.
    assert "ack overdue by 12 min" in late_row
    assert "3 h 33 min left to resolve" in late_row or "3 h 32 min left to resolve" in late_row
    assert "9 min left to ack" in fresh_row or "10 min left to ack" in fresh_row
    assert "1 past a target" in page


def test_acknowledged_incidents_show_only_the_resolve_clock(bob_client, alice, payments):
    incident = make_incident(team=payments, by=alice, sev="SEV1", now=timezone.now() - timedelta(hours=2))
    transition_incident(incident=incident, transition="acknowledge", by=alice)
    row = _row(bob_client.get("/").content.decode(), incident)
    assert "to ack" not in row and "ack overdue" not in row
    assert "resolve overdue by 1 h" in row
    assert "Acknowledged" in row


def test_dashboard_groups_open_incidents_by_severity_most_severe_first(bob_client, alice, payments):
    make_incident(team=payments, by=alice, title="Minor glitch", sev="SEV4")
    make_incident(team=payments, by=alice, title="Everything down", sev="SEV1")
    done = make_incident(team=payments, by=alice, title="Already fixed", sev="SEV1")
    transition_incident(incident=done, transition="resolve", by=alice)
    page = bob_client.get("/").content.decode()
    assert page.index('id="sev1"') < page.index("Everything down") < page.index('id="sev4"')
    assert page.index('id="sev4"') < page.index("Minor glitch")
    assert "Already fixed" not in page


def test_dashboard_shows_team_and_commander(bob_client, alice, payments):
    incident = make_incident(team=payments, by=alice)
    assign_role(incident=incident, role="commander", user=alice, by=alice)
    row = _row(bob_client.get("/").content.decode(), incident)
    assert "Payments" in row and "commander: Alice Archer" in row


def test_empty_dashboard_says_all_quiet(bob_client):
    assert "All quiet" in bob_client.get("/").content.decode()


# --- Incident list ---------------------------------------------------------------

def test_incident_list_filters_and_searches(bob_client, alice, payments, checkout):
    make_incident(team=payments, by=alice, title="Checkout slow", sev="SEV3", services=[checkout])
    resolved = make_incident(team=payments, by=alice, title="Ledger drift", sev="SEV2")
    transition_incident(incident=resolved, transition="resolve", by=alice)

    def titles(query):
        page = bob_client.get(f"/incidents/?{query}").content.decode()
        return {t for t in ("Checkout slow", "Ledger drift") if t in page}

    assert titles("") == {"Checkout slow", "Ledger drift"}
    assert titles("status=resolved") == {"Ledger drift"}
    assert titles("status=open") == {"Checkout slow"}
    assert titles("severity=SEV3") == {"Checkout slow"}
    assert titles("service=checkout") == {"Checkout slow"}
    assert titles("team=payments") == {"Checkout slow", "Ledger drift"}
    assert titles("q=ledger") == {"Ledger drift"}
    assert titles(f"q={resolved.number}") == {"Ledger drift"}


def test_incident_list_is_newest_first_and_paginated_by_50(bob_client, alice, payments):
    now = timezone.now()
    for i in range(52):
        make_incident(team=payments, by=alice, title=f"Incident number {i:02d}", now=now - timedelta(minutes=60 - i))
    first = bob_client.get("/incidents/?status=open").content.decode()
    assert "52 incidents" in first and "Page 1 of 2" in first
    assert first.index("Incident number 51") < first.index("Incident number 50")
    assert "Incident number 01" not in first
    assert 'href="?status=open&amp;page=2"' in first
    second = bob_client.get("/incidents/?status=open&page=2").content.decode()
    assert "Incident number 01" in second and "Incident number 00" in second
    assert "Incident number 51" not in second


# --- Services ----------------------------------------------------------------------

def test_service_pages_show_runbook_and_recent_incidents(bob_client, alice, payments, checkout, charlie):
    ServiceFactory(slug="indexer", name="Indexer", team=charlie.teams.get())
    incident = make_incident(team=payments, by=alice, title="Checkout down", services=[checkout])
    listing = bob_client.get("/services/").content.decode()
    assert 'href="/services/checkout/"' in listing and "Indexer" not in listing
    page = bob_client.get("/services/checkout/").content.decode()
    assert "<h1>Checkout API</h1>" in page
    assert "<strong>error rate</strong>" in page
    assert incident.number in page and "Checkout down" in page
    assert bob_client.get("/services/indexer/").status_code == 404


# --- Query counts ----------------------------------------------------------------

def _fill(n, alice, payments, checkout):
    people = [alice] + [UserFactory() for _ in range(2)]
    for person in people[1:]:
        MembershipFactory(team=payments, user=person)
    for i in range(n):
        incident = make_incident(team=payments, by=alice, title=f"Busy {i}", services=[checkout],
                                 sev=f"SEV{i % 4 + 1}")
        assign_role(incident=incident, role="commander", user=people[i % 3], by=alice)


@pytest.mark.parametrize("url", ["/", "/incidents/", "/incidents/?status=open&team=payments", "/services/",
                                 "/services/checkout/"])
def test_list_pages_run_a_constant_number_of_queries(bob_client, alice, payments, checkout,
                                                     django_assert_max_num_queries, url):
    _fill(3, alice, payments, checkout)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert bob_client.get(url).status_code == 200
    _fill(30, alice, payments, checkout)
    with django_assert_max_num_queries(len(few)):
        page = bob_client.get(url)
    assert page.status_code == 200
    if url != "/services/":
        assert page.content.decode().count("Busy ") >= 20


def test_an_incident_seconds_past_its_ack_target_reads_under_one_minute_overdue():
    from datetime import timedelta

    from incidents.views.common import humanize

    assert humanize(timedelta(seconds=20)) == "under 1 min"
    assert humanize(timedelta(minutes=12, seconds=5)) == "12 min"
    assert humanize(timedelta(hours=3, minutes=5)) == "3 h 5 min"
