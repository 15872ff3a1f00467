"""Upgrading a database from before the alerts app: every row is found through the alerts models.

Integrations, their history, alert groups and alerts moved from ``incidents`` to ``alerts``
(incidents/0010 and alerts/0001, state-only: the tables keep their ``incidents_*`` names).
This migrates the test database back to where the move started, stores one row of each kind
with the models of that time, migrates forward to the newest migrations, whatever they are
by then, and reads every row back through today's models. Runs on SQLite and PostgreSQL.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from alerts.models import Alert, AlertGroup, Integration
from incidents.models import MaintenanceWindow

# Where the move started: the last migrations of incidents and oncall before it.
BEFORE_THE_MOVE = [("incidents", "0009_heartbeat_interval_not_null"), ("oncall", "0002_schedules")]
MOVED = ["integration", "historicalintegration", "alertgroup", "alert"]
AT = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


def _stored(model, pk) -> dict:
    """A row as stored: every concrete column, read back through ``model``."""
    row = model.objects.get(pk=pk)
    return {field.attname: getattr(row, field.attname) for field in model._meta.concrete_fields}


def _seed_before_the_move(apps) -> dict:
    """One row of each kind the move touches, written with the models of incidents/0009."""
    User = apps.get_model("oncall", "User")
    Team = apps.get_model("oncall", "Team")
    Service = apps.get_model("incidents", "Service")
    Severity = apps.get_model("incidents", "Severity")
    Incident = apps.get_model("incidents", "Incident")
    OldIntegration = apps.get_model("incidents", "Integration")
    OldHistoricalIntegration = apps.get_model("incidents", "HistoricalIntegration")
    OldAlertGroup = apps.get_model("incidents", "AlertGroup")
    OldAlert = apps.get_model("incidents", "Alert")
    OldMaintenanceWindow = apps.get_model("incidents", "MaintenanceWindow")

    alice = User.objects.create(username="alice", email="alice@example.com", full_name="Alice Archer")
    payments = Team.objects.create(slug="payments", name="Payments", timezone="Europe/Berlin", created_at=AT)
    checkout = Service.objects.create(slug="checkout", name="Checkout API", team=payments, created_at=AT)
    sev1, _ = Severity.objects.get_or_create(name="SEV1", defaults={"rank": 1})
    incident = Incident.objects.create(
        number="INC-2026-0001", year=2026, sequence=1, title="Checkout 5xx", team=payments,
        severity=sev1, source="alert", declared_by=alice, alert_count=2, last_alert_at=AT,
        created_at=AT, updated_at=AT,
    )
    incident.services.add(checkout)

    integrations = {}
    for n, kind in enumerate(["events_v2", "alertmanager", "webhook", "heartbeat"]):
        heartbeat = kind == "heartbeat"
        integrations[kind] = OldIntegration.objects.create(
            service=checkout, kind=kind, name=f"{kind} of checkout", key_prefix=f"{n}abcdefg",
            key_hash=f"{n:064d}", key_rotated_at=AT, severity_map={"warning": "SEV2"},
            enabled=kind != "webhook", auto_resolve=kind != "alertmanager", created_by=alice,
            interval_seconds=300 if heartbeat else None, grace_seconds=60 if heartbeat else None,
            heartbeat_state="up" if heartbeat else "new", last_ping_at=AT if heartbeat else None,
            due_at=AT + timedelta(seconds=360) if heartbeat else None, created_at=AT,
        )
    history = OldHistoricalIntegration.objects.create(
        id=integrations["events_v2"].pk, service=checkout, kind="events_v2", name="events_v2 of checkout",
        key_prefix="0abcdefg", key_hash=f"{0:064d}", severity_map={}, created_at=AT, created_by=alice,
        history_date=AT, history_type="+", history_user=alice, history_change_reason="created on the page",
    )
    window = OldMaintenanceWindow.objects.create(
        service=checkout, starts_at=AT, ends_at=AT + timedelta(hours=2), reason="database upgrade", created_by=alice,
        created_at=AT,
    )
    group = OldAlertGroup.objects.create(integration=integrations["events_v2"], dedup_key="checkout/5xx",
                                         incident=incident, created_at=AT)
    joined = OldAlert.objects.create(
        integration=integrations["events_v2"], incident=incident, dedup_key="checkout/5xx",
        summary="Checkout 5xx above 5 %", source="prometheus", severity="critical", component="api",
        group="web", alert_class="http", details={"rate": 0.07}, links=[{"href": "https://example.com/"}],
        images=[], runbook_url="https://example.com/runbook", started_at=AT, received_at=AT, last_seen_at=AT,
    )
    fingerprinted = OldAlert.objects.create(
        integration=integrations["alertmanager"], incident=incident, dedup_key="3f2a9c", status="resolved",
        summary="HighErrorRate", severity="warning", labels={"alertname": "HighErrorRate"},
        annotations={"runbook_url": "https://example.com/runbook"}, generator_url="https://prometheus.example.com/",
        received_at=AT, last_seen_at=AT, resolved_at=AT + timedelta(minutes=5),
    )
    suppressed = OldAlert.objects.create(
        integration=integrations["heartbeat"], suppressed_by=window, dedup_key="heartbeat",
        summary="Heartbeat missed", severity="critical", received_at=AT, last_seen_at=AT,
    )
    return {
        "integration": [i.pk for i in integrations.values()],
        "historicalintegration": [history.pk],
        "alertgroup": [group.pk],
        "alert": [joined.pk, fingerprinted.pk, suppressed.pk],
        "maintenancewindow": [window.pk],
    }


def _content_types_before_the_move(apps) -> dict[str, tuple[int, int]]:
    """The moved models' content types as a database from before the alerts app has them, and a permission of each."""
    OldContentType = apps.get_model("contenttypes", "ContentType")
    OldPermission = apps.get_model("auth", "Permission")
    OldContentType.objects.filter(app_label="alerts", model__in=MOVED).delete()
    ids = {}
    for model in MOVED:
        content_type, _ = OldContentType.objects.get_or_create(app_label="incidents", model=model)
        permission, _ = OldPermission.objects.get_or_create(content_type=content_type, codename=f"view_{model}",
                                                            defaults={"name": f"Can view {model}"})
        ids[model] = content_type.pk, permission.pk
    return ids


def test_upgrading_from_before_the_alerts_app_keeps_every_row_and_content_type():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE_THE_MOVE)
        old_apps = executor.loader.project_state(BEFORE_THE_MOVE).apps
        ids = _seed_before_the_move(old_apps)
        content_types = _content_types_before_the_move(old_apps)
        before = {
            (name, pk): _stored(old_apps.get_model("incidents", name), pk)
            for name, pks in ids.items() for pk in pks
        }

        _migrate_to_latest()

        now = {"integration": Integration, "historicalintegration": Integration.history.model,
               "alertgroup": AlertGroup, "alert": Alert, "maintenancewindow": MaintenanceWindow}
        for (name, pk), old in before.items():
            model = now[name]
            assert model.objects.filter(pk=pk).exists(), f"{name} {pk} is not found through {model.__name__}"
            current = _stored(model, pk)
            # Columns a later migration dropped are not compared; every column both have must match.
            kept = old.keys() & current.keys()
            assert len(kept) > 4, f"{name}: only {sorted(kept)} left to compare"
            assert {k: current[k] for k in kept} == {k: old[k] for k in kept}, f"{name} {pk} changed in the move"
        assert Integration.objects.count() == 4
        assert sorted(Integration.objects.values_list("kind", flat=True)) == [
            "alertmanager", "events_v2", "heartbeat", "webhook"]
        assert Alert.objects.get(dedup_key="heartbeat").suppressed_by_id == ids["maintenancewindow"][0]

        ContentType.objects.clear_cache()
        for model, (content_type_id, permission_id) in content_types.items():
            content_type = ContentType.objects.get(pk=content_type_id)
            assert (content_type.app_label, content_type.model) == ("alerts", model)
            assert Permission.objects.get(pk=permission_id).content_type_id == content_type_id
        assert ContentType.objects.get_for_model(Integration).pk == content_types["integration"][0]
        assert not ContentType.objects.filter(app_label="incidents", model__in=MOVED).exists()
    finally:
        _migrate_to_latest()
