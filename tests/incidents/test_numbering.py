"""Incident numbers: the creation's last write, gap-free, and the same in the history (both databases)."""

from datetime import UTC, datetime

import pytest

from alerts.services import AlertEvent, ingest_event
from incidents import signals
from incidents.models import Incident, IncidentSequence
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def test_the_creation_history_row_carries_the_number(payments, alice):
    incident = make_incident(team=payments, by=alice)

    created = incident.history.get(history_type="+")
    assert (created.number, created.sequence) == (incident.number, incident.sequence)
    stored = Incident.objects.get(pk=incident.pk)
    assert stored.number == incident.number == f"INC-{incident.year}-{incident.sequence:04d}"


def test_a_year_past_9999_incidents_keeps_every_digit(payments, alice):
    now = datetime(2026, 3, 1, tzinfo=UTC)
    IncidentSequence.objects.update_or_create(year=2026, defaults={"last": 9999})

    incident = make_incident(team=payments, by=alice, now=now)

    assert incident.number == "INC-2026-10000"
    assert Incident.objects.get(pk=incident.pk).number == "INC-2026-10000"
    assert incident.history.get(history_type="+").number == "INC-2026-10000"


def test_an_incident_opened_by_an_alert_is_numbered_like_a_declared_one(events, payments, alice):
    declared = make_incident(team=payments, by=alice)

    outcome = ingest_event(integration=events, event=AlertEvent(action="trigger", dedup_key="disk", summary="Disk full"))

    opened = Incident.objects.get(pk=outcome.incident.pk)
    assert outcome.result == "triggered"
    assert opened.sequence == declared.sequence + 1
    assert opened.number == outcome.incident.number == f"INC-{opened.year}-{opened.sequence:04d}"
    assert opened.history.get(history_type="+").number == opened.number
    assert opened.alert_count == 1


def test_a_creation_that_fails_after_its_number_gives_the_number_back(payments, alice):
    first = make_incident(team=payments, by=alice)

    def refuse(**kwargs):  # a listener failing after the number was taken rolls the creation back
        raise RuntimeError("listener failed")

    signals.incident_created.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            make_incident(team=payments, by=alice, title="rolled back")
    finally:
        signals.incident_created.disconnect(refuse)
    second = make_incident(team=payments, by=alice)

    assert second.sequence == first.sequence + 1
    assert not Incident.objects.filter(title="rolled back").exists()
    assert IncidentSequence.objects.get(year=second.year).last == second.sequence
