"""A postmortem taken elsewhere: the Markdown download and the print-ready page carry every section, the key
events, the contributing factors and the action items; another team's postmortem is a 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from postmortems.models import FactorTag
from postmortems.services import (
    add_event,
    add_factor,
    create_action_item,
    set_action_item_status,
    update_postmortem,
)

from .conftest import MIN, T0

pytestmark = pytest.mark.django_db

SECTIONS = {
    "summary": "Card payments failed for **70 minutes**.",
    "root_cause": "A certificate expired on the card gateway.\n\n<script>alert('x')</script>",
    "detection": "The error-rate alert fired.",
    "detection_sooner": "A certificate expiry check would have warned us weeks ahead.",
    "response": "Bob commanded; the rollback was quick.",
    "went_well": "Paging reached the right people in 2 minutes.",
    "to_improve": "Nobody knew where the certificates were kept.",
    "lessons": "Track every certificate's expiry.",
    "impact": "Nobody could pay by card.",
    "budget_consumed": "38% of the monthly error budget",
}


@pytest.fixture
def written(postmortem, alice, bob):
    """The SEV1's postmortem, written: every section, a factor, a key event, two action items (one done)."""
    postmortem = update_postmortem(postmortem=postmortem, by=bob, version=postmortem.version, **SECTIONS)
    tag, _ = FactorTag.objects.get_or_create(name="Expired certificate", team=None)
    add_factor(postmortem=postmortem, tag=tag, description="The gateway's TLS certificate.", by=bob)
    add_event(postmortem=postmortem, at=T0 + 5 * MIN, summary="Gateway certificate replaced", by=bob)
    create_action_item(incident=postmortem.incident, by=bob, title="Alert 30 days before a certificate expires",
                       owner=alice, priority="P1", success_criteria="A test certificate triggers the alert.")
    done = create_action_item(incident=postmortem.incident, by=bob, title="Inventory the certificates", owner=bob)
    set_action_item_status(item=done, status="done", by=bob)
    return postmortem


def test_the_markdown_download_holds_the_whole_postmortem(client, written, alice):
    client.force_login(alice)  # Europe/Berlin: T0 (09:00 UTC) is 10:00 there
    response = client.get(f"/postmortems/{written.pk}/export.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    number = written.incident.number
    assert response["Content-Disposition"] == f'attachment; filename="{number}-postmortem.md"'
    text = response.content.decode()
    assert text.startswith(f"# Postmortem: {number} — Checkout is failing\n")
    for heading in ("## Summary", "## Impact", "## The incident in numbers", "## Root cause", "## Detection",
                    "### How it was detected", "### Could it have been detected sooner?", "## Response",
                    "### What went well", "### What could improve", "## Contributing factors",
                    "## Lessons learned", "## Timeline (key events)", "## Action items"):
        assert f"\n{heading}\n" in text, heading
    for value in SECTIONS.values():
        assert value in text  # the sections are Markdown already: kept as written
    assert "- **Users affected:** 1200" in text and "- **Time to acknowledge:** 4 min" in text
    assert "- **Expired certificate**: The gateway's TLS certificate." in text
    assert "- 2 Mar 2026 10:05:00 — Bob Baker: Gateway certificate replaced" in text
    assert "- **Times:** Europe/Berlin" in text
    assert ("- [ ] **P1** Alert 30 days before a certificate expires (open, owner Alice Archer)\n"
            "  Success criteria: A test certificate triggers the alert.") in text
    assert "- [x] **P2** Inventory the certificates (done, owner Bob Baker)" in text


def test_an_unwritten_section_says_so(client, postmortem, bob):
    client.force_login(bob)
    text = client.get(f"/postmortems/{postmortem.pk}/export.md").content.decode()
    assert "## Lessons learned\n\n_Not written yet._\n" in text
    assert "## Action items\n\n_None._" in text


def test_the_print_page_renders_every_section_through_the_sanitiser(client, written, alice):
    client.force_login(alice)
    response = client.get(f"/postmortems/{written.pk}/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="nav"' not in html and "<form" not in html  # no navigation, nothing to click but "back"
    assert "css/postmortem-print.css" in html
    assert "<strong>70 minutes</strong>" in html  # Markdown rendered
    assert "<script" not in html and "alert(" not in html  # and sanitised
    for text in ("A certificate expired on the card gateway.", "A certificate expiry check", "the rollback was quick",
                 "Paging reached the right people", "Nobody knew where", "Track every certificate",
                 "38% of the monthly error budget", "Expired certificate", "Gateway certificate replaced",
                 "Alert 30 days before a certificate expires", "A test certificate triggers the alert.",
                 "Inventory the certificates"):
        assert text in html, text
    assert "2 Mar 10:05:00" in html and "Europe/Berlin" in html


def test_the_postmortem_page_links_to_both(client, postmortem, bob):
    client.force_login(bob)
    html = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    assert f'href="/postmortems/{postmortem.pk}/export.md"' in html
    assert f'href="/postmortems/{postmortem.pk}/print/"' in html


@pytest.mark.parametrize("suffix", ["export.md", "print/"])
def test_another_teams_postmortem_is_not_found(client, postmortem, charlie, suffix):
    client.force_login(charlie)
    assert client.get(f"/postmortems/{postmortem.pk}/{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["export.md", "print/"])
def test_an_export_costs_the_same_queries_however_long_the_postmortem(
        client, written, bob, alice, suffix, django_assert_max_num_queries):
    client.force_login(bob)
    url = f"/postmortems/{written.pk}/{suffix}"
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    tag = FactorTag.objects.get(name="Expired certificate")
    for n in range(5):
        add_factor(postmortem=written, tag=tag, description=f"More {n}", by=bob)
        add_event(postmortem=written, at=T0 + (10 + n) * MIN, summary=f"Step {n}", by=bob)
        create_action_item(incident=written.incident, by=bob, title=f"Item {n}", owner=alice)
    with django_assert_max_num_queries(len(few)):
        assert "Item 4" in client.get(url).content.decode()
