"""Incident checklists: made from the severity's template at declaration, ticked by people and by Vigil."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from incidents.models import ChecklistItem
from incidents.queries import timeline
from incidents.services import (
    assign_role,
    post_status_update,
    resolve_incident,
    tick_checklist_item,
    transition_incident,
)
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

FULL_DURING = ["Severity assigned", "Commander identified", "War room open", "Status page updated",
               "Timeline kept", "Stakeholders notified"]
FULL_AFTER = ["Resolution confirmed", "Status page updated", "Customer communication sent",
              "Postmortem scheduled", "Action items created", "Runbook updated"]
SHORT_DURING = ["Severity assigned", "Commander identified", "Status page updated", "Timeline kept"]
SHORT_AFTER = ["Resolution confirmed", "Status page updated", "Action items created"]


def _texts(incident, phase):
    return list(ChecklistItem.objects.filter(incident=incident, phase=phase).order_by("position")
                .values_list("text", flat=True))


def _item(incident, text, phase="during"):
    return ChecklistItem.objects.get(incident=incident, phase=phase, text=text)


@pytest.mark.parametrize(("sev", "during", "after"), [
    ("SEV1", FULL_DURING, FULL_AFTER), ("SEV2", FULL_DURING, FULL_AFTER),
    ("SEV3", SHORT_DURING, SHORT_AFTER), ("SEV4", SHORT_DURING, SHORT_AFTER),
])
def test_each_severity_gets_its_checklist_at_declaration(payments, alice, sev, during, after):
    incident = make_incident(team=payments, by=alice, sev=sev)
    assert _texts(incident, "during") == during
    assert _texts(incident, "after") == after


def test_severity_is_ticked_by_vigil_at_declaration(payments, alice):
    incident = make_incident(team=payments, by=alice)
    item = _item(incident, "Severity assigned")
    assert item.done_at == incident.created_at and item.done_by is None
    assert not _item(incident, "War room open").done


def test_ticking_records_who_and_when_and_is_a_timeline_event(payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    at = timezone.now() + timedelta(minutes=3)
    item = tick_checklist_item(item=_item(incident, "War room open"), by=bob, done=True, now=at)
    item.refresh_from_db()
    assert item.done_at == at and item.done_by == bob
    events = [e for e in timeline(incident) if e.kind == "checklist"]
    assert [(e.at, e.actor, e.summary) for e in events][-1] == (at, bob, "Done: War room open")
    assert events[-1].data == {"item": item.pk, "phase": "during", "text": "War room open", "done": True}


def test_unticking_clears_it_and_is_a_timeline_event(payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    item = _item(incident, "Timeline kept")
    tick_checklist_item(item=item, by=bob, done=True)
    tick_checklist_item(item=item, by=alice, done=False)
    item.refresh_from_db()
    assert item.done_at is None and item.done_by is None
    last = [e for e in timeline(incident) if e.kind == "checklist"][-1]
    assert last.actor == alice and last.summary == "Not done: Timeline kept" and last.data["done"] is False


def test_ticking_twice_records_one_event(payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    item = _item(incident, "Timeline kept")
    first = tick_checklist_item(item=item, by=bob, done=True)
    again = tick_checklist_item(item=item, by=alice, done=True)
    assert again.done_by_id == bob.pk and again.done_at == first.done_at
    assert [e.summary for e in timeline(incident) if e.kind == "checklist"].count("Done: Timeline kept") == 1


def test_an_outsider_may_not_tick(payments, alice, charlie):
    incident = make_incident(team=payments, by=alice)
    with pytest.raises(PermissionDenied):
        tick_checklist_item(item=_item(incident, "War room open"), by=charlie, done=True)
    assert not _item(incident, "War room open").done


def test_assigning_a_commander_ticks_commander_identified(payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    assign_role(incident=incident, role="scribe", user=bob, by=alice)
    assert not _item(incident, "Commander identified").done
    assign_role(incident=incident, role="commander", user=bob, by=alice)
    item = _item(incident, "Commander identified")
    assert item.done and item.done_by is None
    # The role's own event says it; Vigil's tick adds no second line to the timeline.
    assert [e.kind for e in timeline(incident)][-1] == "role_assigned"


def test_a_public_update_ticks_status_page_updated_in_the_current_phase(payments, alice):
    incident = make_incident(team=payments, by=alice)
    post_status_update(incident=incident, state="investigating", body="Internal only", by=alice)
    assert not _item(incident, "Status page updated").done
    post_status_update(incident=incident, state="investigating", body="We are on it", public=True, by=alice)
    assert _item(incident, "Status page updated").done
    assert not _item(incident, "Status page updated", phase="after").done
    incident = resolve_incident(incident=incident, by=alice)
    post_status_update(incident=incident, state="resolved", body="All fine", public=True, by=alice)
    assert _item(incident, "Status page updated", phase="after").done_by is None
    assert _item(incident, "Status page updated", phase="after").done


def test_resolving_ticks_resolution_confirmed(payments, alice):
    incident = make_incident(team=payments, by=alice)
    assert not _item(incident, "Resolution confirmed", phase="after").done
    at = timezone.now() + timedelta(minutes=30)
    resolve_incident(incident=incident, by=alice, now=at)
    item = _item(incident, "Resolution confirmed", phase="after")
    assert item.done_at == at and item.done_by is None


def test_reopening_and_resolving_again_keeps_the_first_resolution_tick(payments, alice):
    incident = make_incident(team=payments, by=alice)
    first = timezone.now() + timedelta(minutes=5)
    incident = resolve_incident(incident=incident, by=alice, now=first)
    incident = transition_incident(incident=incident, transition="reopen", by=alice)
    resolve_incident(incident=incident, by=alice)
    assert _item(incident, "Resolution confirmed", phase="after").done_at == first
