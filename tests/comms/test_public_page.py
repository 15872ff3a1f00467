"""The public status page, its JSON and its feed: no login, nothing internal, cacheable, constant queries."""

import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.services import AlertEvent, ingest_event
from comms.services import create_component
from incidents.services import add_note, create_maintenance_window, post_status_update
from tests.factories import ServiceFactory, make_incident

pytestmark = pytest.mark.django_db

JSON_PATHS = ["/status/api/v2/summary.json", "/status/api/v2/status.json", "/status/api/v2/components.json",
              "/status/api/v2/incidents/unresolved.json"]
ALL_PATHS = ["/status/", "/status/payments/", "/status/feed.atom", *JSON_PATHS]

COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INDICATORS = {"none", "minor", "major", "critical"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
IMPACTS = {"none", "minor", "major", "critical"}


@pytest.fixture
def anon():
    return Client()


@pytest.fixture
def public_incident(payments, alice, checkout, checkout_component):
    incident = make_incident(team=payments, by=alice, sev="SEV2", services=[checkout], title="Checkout errors")
    post_status_update(incident=incident, state="investigating", body="Payments fail for some customers.",
                       public=True, by=alice, now=timezone.now() - timedelta(minutes=10))
    post_status_update(incident=incident, state="identified", body="A fix is rolling out.", public=True, by=alice)
    return incident


def test_the_page_needs_no_login_and_shows_components_incidents_and_updates(anon, public_incident):
    response = anon.get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Checkout" in html and "Partial outage" in html and "Partial System Outage" in html
    assert "Checkout errors" in html
    # Newest update first, times labelled UTC.
    assert html.index("A fix is rolling out.") < html.index("Payments fail for some customers.")
    assert "UTC" in html
    assert html.count('class="sp-day ') == 90


def test_a_team_page_and_an_unknown_team(anon, public_incident, search_team):
    create_component(team=search_team, name="Search box", by=None)
    assert "Search box" not in anon.get("/status/payments/").content.decode()
    assert "Search box" in anon.get("/status/search/").content.decode()
    assert anon.get("/status/nobody/").status_code == 404


def test_scheduled_maintenance_is_listed_without_its_reason(anon, payments, alice, checkout, checkout_component):
    now = timezone.now()
    create_maintenance_window(service=checkout, starts_at=now + timedelta(days=1),
                              ends_at=now + timedelta(days=1, hours=2), by=alice, reason="swap the db disks")
    html = anon.get("/status/").content.decode()
    assert "No maintenance planned" not in html
    assert "swap the db disks" not in html
    summary = anon.get("/status/api/v2/summary.json").json()
    [maintenance] = summary["scheduled_maintenances"]
    assert maintenance["status"] == "scheduled" and maintenance["components"] == [
        {"id": str(checkout_component.pk), "name": "Checkout"}]


def test_nothing_internal_reaches_the_page_the_feed_or_the_json(anon, payments, search_team, alice, charlie,
                                                                checkout, events, public_incident):
    secrets = []

    def secret(text):
        secrets.append(text)
        return text

    # Internal notes and an internal update on the public incident itself.
    add_note(incident=public_incident, body=secret("NOTE-rollback-by-bob"), by=alice)
    post_status_update(incident=public_incident, state="monitoring", body=secret("INTERNAL-UPDATE-watching"),
                       public=False, by=alice)
    # An alert (it opens an incident of its own, with no public update).
    ingest_event(integration=events, event=AlertEvent(action="trigger", dedup_key="db-1",
                                                      summary=secret("ALERT-disk-full-on-db-7")))
    # A private incident, with notes and an internal update.
    private = make_incident(team=payments, by=alice, sev="SEV1", services=[checkout],
                            title=secret("PRIVATE-ledger-mismatch"), description=secret("DESC-ledger"))
    add_note(incident=private, body=secret("NOTE-ledger-off-by-cents"), by=alice)
    post_status_update(incident=private, state="investigating", body=secret("INTERNAL-ledger-update"),
                       public=False, by=alice)
    # A security incident without a public update.
    security_service = ServiceFactory(slug="auth", name="Auth", team=search_team)
    make_incident(team=search_team, by=charlie, sev="SEV1", category="security", services=[security_service],
                  title=secret("SECURITY-token-leak"), description=secret("DESC-token-leak"))
    # The people.
    secrets += ["Alice Archer", "alice@", "Charlie Chen"]

    bodies = {path: anon.get(path).content.decode() for path in [*ALL_PATHS, "/status/search/"]}
    for path, body in bodies.items():
        leaked = [text for text in secrets if text in body]
        assert not leaked, f"{path} shows {leaked}"
    # What is public is there.
    assert "A fix is rolling out." in bodies["/status/"] and "A fix is rolling out." in bodies["/status/feed.atom"]
    assert "Checkout errors" in bodies["/status/api/v2/summary.json"]
    # The private SEV1 on the same service does not make the component a major outage.
    summary = json.loads(bodies["/status/api/v2/summary.json"])
    assert [c["status"] for c in summary["components"]] == ["partial_outage"]
    assert summary["status"]["indicator"] == "major"


def test_summary_json_has_statuspages_field_names_and_values(anon, public_incident, checkout_component):
    body = anon.get("/status/api/v2/summary.json").json()
    assert set(body) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert {"id", "name", "url", "updated_at"} <= set(body["page"])
    assert body["page"]["url"] == "http://testserver/status/"
    assert set(body["status"]) == {"indicator", "description"}
    assert body["status"]["indicator"] in INDICATORS
    assert body["status"]["description"] == "Partial System Outage"
    [component] = body["components"]
    assert {"id", "name", "status", "created_at", "updated_at", "position", "description", "group_id",
            "page_id", "group", "only_show_if_degraded"} <= set(component)
    assert component["status"] in COMPONENT_STATUSES
    assert (component["id"], component["name"], component["status"]) == (
        str(checkout_component.pk), "Checkout", "partial_outage")
    [incident] = body["incidents"]
    assert {"id", "name", "status", "impact", "created_at", "updated_at", "shortlink", "incident_updates",
            "resolved_at", "monitoring_at", "page_id", "components"} <= set(incident)
    assert incident["status"] in INCIDENT_STATUSES and incident["impact"] in IMPACTS
    assert (incident["id"], incident["name"], incident["status"], incident["impact"]) == (
        public_incident.number, "Checkout errors", "identified", "major")
    assert incident["shortlink"] == f"http://testserver/status/#{public_incident.number}"
    updates = incident["incident_updates"]
    assert [u["body"] for u in updates] == ["A fix is rolling out.", "Payments fail for some customers."]
    for update in updates:
        assert {"id", "status", "body", "created_at", "updated_at", "display_at", "incident_id"} <= set(update)
        assert update["status"] in INCIDENT_STATUSES
        assert update["created_at"].endswith("+00:00")
    assert body["scheduled_maintenances"] == []


def test_the_parts_of_the_summary(anon, public_incident):
    summary = anon.get("/status/api/v2/summary.json").json()
    status = anon.get("/status/api/v2/status.json").json()
    components = anon.get("/status/api/v2/components.json").json()
    unresolved = anon.get("/status/api/v2/incidents/unresolved.json").json()
    assert set(status) == {"page", "status"} and status["status"] == summary["status"]
    assert set(components) == {"page", "components"} and components["components"] == summary["components"]
    assert set(unresolved) == {"page", "incidents"} and unresolved["incidents"] == summary["incidents"]


def test_an_all_clear_page(anon, checkout_component):
    body = anon.get("/status/api/v2/summary.json").json()
    assert body["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert body["incidents"] == []


def test_the_feed_is_atom_with_each_public_update(anon, public_incident):
    response = anon.get("/status/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own feed
    entries = root.findall("a:entry", ns)
    assert [e.find("a:title", ns).text for e in entries] == ["Checkout errors — Identified",
                                                             "Checkout errors — Investigating"]
    assert entries[0].find("a:link", ns).get("href") == f"http://testserver/status/#{public_incident.number}"
    assert len({e.find("a:id", ns).text for e in entries}) == 2


@pytest.mark.parametrize("path", ALL_PATHS)
def test_every_view_is_cacheable_and_answers_304_when_unchanged(anon, public_incident, path):
    first = anon.get(path)
    assert first.status_code == 200
    assert "public" in first["Cache-Control"] and "max-age=30" in first["Cache-Control"]
    assert first["ETag"] and first["Last-Modified"]
    again = anon.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert anon.get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_a_new_public_update_changes_the_etag(anon, alice, public_incident):
    first = anon.get("/status/")
    post_status_update(incident=public_incident, state="monitoring", body="Watching.", public=True, by=alice,
                       now=timezone.now() + timedelta(seconds=2))
    again = anon.get("/status/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "Watching." in again.content.decode()


def test_a_status_page_is_read_only(anon):
    assert anon.post("/status/").status_code == 405


def _queries(anon, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert anon.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["/status/", "/status/payments/", *JSON_PATHS, "/status/feed.atom"])
def test_queries_do_not_grow_with_components_and_incidents(anon, payments, alice, path, django_assert_max_num_queries):
    def grow(n):
        for i in range(n):
            service = ServiceFactory(slug=f"svc-{path.count('/')}-{i}-{n}", name=f"Svc {i}", team=payments)
            create_component(team=payments, name=f"Component {i}", services=[service], by=None)
            incident = make_incident(team=payments, by=alice, sev="SEV3", services=[service])
            post_status_update(incident=incident, state="investigating", body="Looking.", public=True, by=alice)
            post_status_update(incident=incident, state="identified", body="Found.", public=True, by=alice)
            create_maintenance_window(service=service, starts_at=timezone.now() + timedelta(days=1),
                                      ends_at=timezone.now() + timedelta(days=1, hours=1), by=alice)

    grow(1)
    one = _queries(anon, path)
    grow(9)
    with django_assert_max_num_queries(one):
        anon.get(path)
    assert one <= 12
