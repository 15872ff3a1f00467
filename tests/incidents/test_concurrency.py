"""Races that only a real database with real row locks can show (PostgreSQL)."""

import pytest
from django.db import connection

from incidents.models import Incident
from incidents.services import IllegalTransition, transition_incident
from tests.concurrency import run_in_threads
from tests.factories import make_incident

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_concurrent_declarations_get_unique_gap_free_numbers(on_postgres, payments, alice):
    results, errors = run_in_threads(12, lambda i: make_incident(team=payments, by=alice, title=f"race {i}").number)
    assert errors == [None] * 12
    year = Incident.objects.first().year
    assert sorted(results) == [f"INC-{year}-{n:04d}" for n in range(1, 13)]


def test_two_responders_acknowledging_at_once_make_one_transition(on_postgres, payments, alice, bob):
    incident = make_incident(team=payments, by=alice)
    people = [alice, bob]
    results, errors = run_in_threads(
        2, lambda i: transition_incident(incident=incident, transition="acknowledge", by=people[i]).status
    )
    assert sorted(r for r in results if r) == ["acknowledged"]
    refused = [e for e in errors if e is not None]
    assert len(refused) == 1 and isinstance(refused[0], IllegalTransition)
    assert refused[0].status == "acknowledged"
    history = incident.history.filter(status="acknowledged")
    assert history.count() == 1
    assert connection.vendor == "postgresql"


def test_a_failed_declaration_gives_its_number_back(on_postgres, payments, alice):
    first = make_incident(team=payments, by=alice)
    with pytest.raises(Exception):  # noqa: B017 — the validation error class is not the point
        make_incident(team=payments, by=alice, title="x" * 300)  # too long: rolls back
    second = make_incident(team=payments, by=alice)
    assert second.sequence == first.sequence + 1
