"""Heartbeats: pings, the beat task opening an incident past interval + grace, the next ping resolving it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import tasks
from incidents.models import Alert, Incident, Integration
from incidents.services import (
    check_heartbeats,
    create_integration,
    ping_heartbeat,
    update_integration,
)

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


@pytest.fixture
def beat(checkout, alice):
    integration, key = create_integration(service=checkout, kind="heartbeat", name="Backups", by=alice,
                                          interval_seconds=300, grace_seconds=60)
    integration.url = f"/api/v1/heartbeats/{key}/"
    return integration


def state(integration):
    return Integration.objects.get(pk=integration.pk).heartbeat_state


@pytest.mark.parametrize("method", ["get", "post"])
def test_ping_by_get_or_post_marks_it_up(client, beat, method):
    response = getattr(client, method)(beat.url)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "resolved": False}
    fresh = Integration.objects.get(pk=beat.pk)
    assert fresh.heartbeat_state == "up"
    assert fresh.last_ping_at is not None


def test_missing_past_interval_plus_grace_opens_one_incident(beat):
    ping_heartbeat(integration=beat, now=T0)

    assert check_heartbeats(now=T0 + timedelta(seconds=359)) == 0  # within interval + grace
    assert not Incident.objects.exists()

    assert check_heartbeats(now=T0 + timedelta(seconds=360)) == 1
    incident = Incident.objects.get()
    assert incident.severity.name == "SEV1"
    assert "Backups" in incident.title and "missed" in incident.title
    assert state(beat) == "down"

    # Running the sweep again (beat every 30 s) opens nothing more.
    assert check_heartbeats(now=T0 + timedelta(seconds=390)) == 0
    assert Incident.objects.count() == 1


def test_next_ping_resolves_the_incident(client, beat):
    ping_heartbeat(integration=beat, now=T0)
    check_heartbeats(now=T0 + timedelta(minutes=7))

    response = client.post(beat.url)

    assert response.json() == {"status": "ok", "resolved": True}
    assert Incident.objects.get().status == "resolved"
    assert Alert.objects.get().status == "resolved"
    assert state(beat) == "up"


def test_missing_again_after_recovery_opens_a_new_incident(beat):
    ping_heartbeat(integration=beat, now=T0)
    check_heartbeats(now=T0 + timedelta(minutes=7))
    ping_heartbeat(integration=beat, now=T0 + timedelta(minutes=8))
    check_heartbeats(now=T0 + timedelta(minutes=15))
    assert Incident.objects.count() == 2


def test_a_heartbeat_never_pinged_or_disabled_opens_nothing(beat, alice):
    assert check_heartbeats(now=T0 + timedelta(days=1)) == 0
    ping_heartbeat(integration=beat, now=T0)
    update_integration(integration=beat, by=alice, enabled=False)
    assert check_heartbeats(now=T0 + timedelta(days=1)) == 0
    assert not Incident.objects.exists()


def test_the_beat_task_runs_the_sweep(beat):
    # The task named in CELERY_BEAT_SCHEDULE, called directly (never eager Celery).
    ping_heartbeat(integration=beat, now=timezone.now() - timedelta(hours=1))
    assert tasks.check_heartbeats.name == "incidents.tasks.check_heartbeats"
    assert tasks.check_heartbeats() == 1
    assert Incident.objects.filter(status="triggered").count() == 1


def test_ping_on_an_unknown_key_is_404_and_on_a_disabled_one_403(client, beat, alice):
    assert client.get("/api/v1/heartbeats/ffffffffffffffffffffffffffffffff/").status_code == 404
    update_integration(integration=beat, by=alice, enabled=False)
    assert client.get(beat.url).status_code == 403


def test_heartbeat_needs_an_interval(checkout, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        create_integration(service=checkout, kind="heartbeat", name="No interval", by=alice)
