"""Heartbeats: pings, the beat task opening an incident past interval + grace, the next ping resolving it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import tasks
from alerts.models import Alert, Integration
from alerts.services import check_heartbeats, create_integration, ping_heartbeat, update_integration
from incidents.models import Incident

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
    assert tasks.check_heartbeats.name == "alerts.tasks.check_heartbeats"
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


def test_a_heartbeat_missed_during_maintenance_pages_no_one_then_opens_an_incident_if_still_silent(beat, alice):
    from incidents.services import create_maintenance_window

    ping_heartbeat(integration=beat, now=T0)
    create_maintenance_window(service=beat.service, starts_at=T0 + timedelta(minutes=1),
                              ends_at=T0 + timedelta(hours=2), by=alice)

    # Missed in the window: shown as a suppressed alert, no incident, still up.
    assert check_heartbeats(now=T0 + timedelta(minutes=7)) == 0
    assert not Incident.objects.exists()
    suppressed = Alert.objects.get()
    assert suppressed.suppressed_by is not None and suppressed.status == "firing"
    assert state(beat) == "up"
    # The sweep runs every 30 s through the window: still one alert, no incident.
    assert check_heartbeats(now=T0 + timedelta(minutes=30)) == 0
    assert Alert.objects.count() == 1

    # The window ends and no ping came: now it pages.
    assert check_heartbeats(now=T0 + timedelta(hours=2, seconds=30)) == 1
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert state(beat) == "down"

    # The next ping resolves the incident and the alert the window held.
    assert ping_heartbeat(integration=beat, now=T0 + timedelta(hours=3)).result == "resolved"
    assert Incident.objects.get().status == "resolved"
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}


def test_a_ping_during_maintenance_resolves_the_suppressed_miss(client, beat, alice):
    from incidents.services import create_maintenance_window

    now = timezone.now()
    ping_heartbeat(integration=beat, now=now - timedelta(minutes=10))
    create_maintenance_window(service=beat.service, starts_at=now - timedelta(minutes=9),
                              ends_at=now + timedelta(hours=1), by=alice)
    assert check_heartbeats(now=now) == 0
    assert Alert.objects.get().status == "firing"

    assert client.post(beat.url).json() == {"status": "ok", "resolved": True}
    assert Alert.objects.get().status == "resolved"
    # Pinged: due again a full interval plus grace after this ping, and nothing opened meanwhile.
    assert check_heartbeats(now=now + timedelta(minutes=5)) == 0
    assert not Incident.objects.exists()
    assert state(beat) == "up"


def test_changing_the_interval_moves_the_next_due_time(beat, alice):
    ping_heartbeat(integration=beat, now=T0)
    update_integration(integration=beat, by=alice, interval_seconds=86_400)

    # 300 + 60 s would have paged at +6 min; one day plus grace now.
    assert check_heartbeats(now=T0 + timedelta(minutes=10)) == 0
    assert check_heartbeats(now=T0 + timedelta(days=1, seconds=59)) == 0
    assert check_heartbeats(now=T0 + timedelta(days=1, seconds=60)) == 1

    update_integration(integration=beat, by=alice, grace_seconds=600)
    ping_heartbeat(integration=beat, now=T0 + timedelta(days=2))
    update_integration(integration=beat, by=alice, interval_seconds=60)  # shorter: due at once
    assert check_heartbeats(now=T0 + timedelta(days=2, seconds=660)) == 1


@pytest.mark.parametrize("change, field", [
    ({"interval_seconds": None}, "interval_seconds"),
    ({"interval_seconds": 0}, "interval_seconds"),
])
def test_a_heartbeat_keeps_an_interval(beat, alice, change, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        update_integration(integration=beat, by=alice, **change)
    assert field in refused.value.message_dict
    assert Integration.objects.get(pk=beat.pk).interval_seconds == 300


def test_only_heartbeats_take_an_interval(events, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Only heartbeat"):
        update_integration(integration=events, by=alice, interval_seconds=60)
    assert Integration.objects.get(pk=events.pk).interval_seconds is None


@pytest.mark.django_db(transaction=True)  # the scheduler closes and reopens connections, as in `celery beat`
def test_celery_beat_schedules_the_sweep_every_30_seconds():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from config.celery import app

    DatabaseScheduler(app=app)  # what `celery beat` (make run) builds when it starts: it stores the schedule

    task = PeriodicTask.objects.get(task="alerts.tasks.check_heartbeats")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (30, "seconds")
    app.loader.import_default_modules()
    assert "alerts.tasks.check_heartbeats" in app.tasks
