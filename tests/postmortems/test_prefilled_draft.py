"""The draft is prefilled from its incident: fields, durations (computed from the incident's times), roles,
responders, pages sent and the timeline, from which the author marks the key events."""

import pytest

from incidents.services import add_note, transition_incident, update_incident
from paging.services.pages import page
from postmortems.services import refresh_from_incident, update_postmortem

from .conftest import MIN, T0, declare, drive

pytestmark = pytest.mark.django_db


def test_the_durations_are_computed_from_the_incident(postmortem):
    # Impact began at T0−10 min, declared T0, acknowledged +4, mitigated +40, resolved +70 (conftest).
    assert postmortem.facts["durations"] == {
        "detect": 10 * 60, "acknowledge": 4 * 60, "mitigate": 40 * 60, "resolve": 70 * 60, "impact": 80 * 60}


def test_unknown_times_are_left_unknown(payments, alice):
    incident = drive(declare(payments, alice, "SEV2"), by=alice, resolve=False)
    incident = update_incident(incident=incident, by=alice, started_at=None)
    incident = transition_incident(incident=incident, transition="resolve", by=alice, now=T0 + 30 * MIN)
    durations = incident.postmortem.facts["durations"]
    assert durations["detect"] is None and durations["impact"] == 30 * 60


def test_the_draft_holds_the_incidents_fields_roles_responders_and_pages(payments, alice, bob, checkout):
    incident = declare(payments, alice, "SEV1", services=[checkout], description="Card payments failed.",
                       impact="Nobody could pay by card.", users_affected=1200)
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice, message="Need you", now=T0 + 2 * MIN)
    incident = drive(incident, by=alice, commander=bob)
    postmortem = incident.postmortem
    facts = postmortem.facts
    assert (facts["number"], facts["severity"], facts["team"], facts["services"]) == (
        incident.number, "SEV1", "payments", ["Checkout API"])
    assert [(r["role"], r["user"]) for r in facts["roles"]] == [("commander", "bob")]
    assert {r["user"] for r in facts["responders"]} == {"bob"}
    assert [p["user"] for p in facts["pages"]] and {p["user"] for p in facts["pages"]} == {"bob"}
    assert postmortem.summary == "Card payments failed."
    assert postmortem.impact == "Nobody could pay by card." and postmortem.users_affected == 1200
    assert postmortem.detection == "Alice Archer declared the incident (browser form)."
    assert "Incident commander: Bob Baker" in postmortem.response and "Responders: Bob Baker." in postmortem.response


def test_the_timeline_is_copied_and_the_author_marks_key_events(resolved_sev1, alice, bob):
    add_note(incident=resolved_sev1, body="Rolled back the acquirer client", by=bob, now=T0 + 30 * MIN)
    postmortem = refresh_from_incident(postmortem=resolved_sev1.postmortem)
    events = list(postmortem.events.order_by("at", "id"))
    summaries = [e.summary for e in events]
    assert f"{resolved_sev1.number} declared: Checkout is failing" in summaries
    assert "Rolled back the acquirer client" in summaries
    assert "Status monitoring → resolved" in summaries
    assert not any(e.key for e in events)
    note = next(e for e in events if e.kind == "note")
    update_postmortem(postmortem=postmortem, by=bob, version=postmortem.version, key_events=[note.pk])
    assert [e.summary for e in postmortem.events.filter(key=True)] == ["Rolled back the acquirer client"]


def test_until_someone_edits_it_the_draft_follows_the_incident(resolved_sev1, alice, bob):
    update_incident(incident=resolved_sev1, by=alice, root_cause="An expired TLS certificate at the acquirer.")
    postmortem = resolved_sev1.postmortem
    postmortem.refresh_from_db()
    assert postmortem.root_cause == "An expired TLS certificate at the acquirer."
    postmortem = update_postmortem(postmortem=postmortem, by=bob, version=postmortem.version,
                                   root_cause="Certificate expiry, unmonitored.")
    update_incident(incident=resolved_sev1, by=alice, root_cause="Something else entirely.")
    postmortem.refresh_from_db()
    assert postmortem.root_cause == "Certificate expiry, unmonitored."  # a person's text is never replaced


def test_the_postmortem_page_shows_the_prefilled_draft(client, postmortem, alice):
    client.force_login(alice)
    page_text = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    assert "Card payments failed." in page_text and "Nobody could pay by card." in page_text
    assert "Time to acknowledge</dt><dd>4 min" in page_text
    assert "Time to resolve</dt><dd>1 h 10 min" in page_text
    assert "Duration</dt><dd>1 h 20 min" in page_text
