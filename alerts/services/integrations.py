"""Writes of integration setup: integrations and their keys.

Ingestion itself (events, heartbeats) is in ``alerts.services.ingest``.
"""

import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import Service, Severity
from oncall.models import User
from oncall.permissions import require_team_manager

from ..models import KEY_PREFIX_LENGTH, PAYLOAD_SEVERITIES, Integration, IntegrationKind, hash_key


def _new_key() -> tuple[str, str, str]:
    # 128 random bits as 32 hex characters: the shape of a PagerDuty integration key.
    key = secrets.token_hex(16)
    return key, key[:KEY_PREFIX_LENGTH], hash_key(key)


def validate_severity_map(value) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"severity_map": 'Give an object such as {"critical": "SEV1", "warning": "SEV3"}.'})
    names = set(Severity.objects.values_list("name", flat=True))
    errors = []
    for source, target in value.items():
        if source not in PAYLOAD_SEVERITIES:
            errors.append(f"{source!r} is not a payload severity; use {', '.join(PAYLOAD_SEVERITIES)}.")
        elif not isinstance(target, str) or target not in names:
            errors.append(f"{source}: {target!r} is not a severity; use {', '.join(sorted(names))}.")
    if errors:
        raise ValidationError({"severity_map": errors})
    return dict(value)


def clean_heartbeat_fields(kind: str, interval_seconds, grace_seconds) -> tuple[int | None, int | None]:
    """A heartbeat's interval (required) and grace (default: a tenth of it, at least 60 s); others take neither."""
    if kind == IntegrationKind.HEARTBEAT:
        if not interval_seconds or interval_seconds < 1:
            raise ValidationError({"interval_seconds": "A heartbeat needs interval_seconds (a whole number ≥ 1)."})
        if grace_seconds is None:
            grace_seconds = max(60, interval_seconds // 10)
    elif interval_seconds is not None or grace_seconds is not None:
        raise ValidationError({"interval_seconds": "Only heartbeat integrations take an interval and a grace."})
    return interval_seconds, grace_seconds


@transaction.atomic
def create_integration(
    *, service: Service, kind: str, name: str, by: User | None, severity_map: dict | None = None,
    interval_seconds: int | None = None, grace_seconds: int | None = None, auto_resolve: bool = True,
    enabled: bool = True, rate_per_second: int = 60, burst: int = 200,
) -> tuple[Integration, str]:
    """Create an integration and return it with its key; the key is never shown again."""
    require_team_manager(by, service.team, to="change its integrations")
    if kind not in IntegrationKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; use one of {', '.join(IntegrationKind.values)}."})
    interval_seconds, grace_seconds = clean_heartbeat_fields(kind, interval_seconds, grace_seconds)
    key, prefix, digest = _new_key()
    integration = Integration(
        service=service, kind=kind, name=name.strip(), key_prefix=prefix, key_hash=digest,
        severity_map=validate_severity_map(severity_map), interval_seconds=interval_seconds,
        grace_seconds=grace_seconds, auto_resolve=auto_resolve, enabled=enabled,
        rate_per_second=rate_per_second, burst=burst, created_by=by,
    )
    integration.full_clean(exclude=["key_prefix", "key_hash"])
    integration._history_user = by
    integration._change_reason = "created"
    integration.save()
    return integration, key


@transaction.atomic
def rotate_integration_key(*, integration: Integration, by: User | None, now: datetime | None = None) -> str:
    """Replace the key; the old one stops working at once. Returns the new key (shown once)."""
    locked = Integration.objects.select_for_update().select_related("service__team").get(pk=integration.pk)
    require_team_manager(by, locked.service.team, to="change its integrations")
    key, locked.key_prefix, locked.key_hash = _new_key()
    locked.key_rotated_at = now or timezone.now()
    locked._history_user = by
    locked._change_reason = "key rotated"
    locked.save(update_fields=["key_prefix", "key_hash", "key_rotated_at"])
    integration.key_prefix, integration.key_hash = locked.key_prefix, locked.key_hash
    return key


UPDATABLE = {"name", "enabled", "auto_resolve", "severity_map", "rate_per_second", "burst",
             "interval_seconds", "grace_seconds"}


@transaction.atomic
def update_integration(*, integration: Integration, by: User | None, **fields) -> Integration:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Integration.objects.select_for_update().select_related("service__team").get(pk=integration.pk)
    require_team_manager(by, locked.service.team, to="change its integrations")
    if "severity_map" in fields:
        fields["severity_map"] = validate_severity_map(fields["severity_map"])
    if "interval_seconds" in fields or "grace_seconds" in fields:
        fields["interval_seconds"], fields["grace_seconds"] = clean_heartbeat_fields(
            locked.kind, fields.get("interval_seconds", locked.interval_seconds),
            fields.get("grace_seconds", locked.grace_seconds),
        )
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, fields[name])
    if changed:
        locked.full_clean(exclude=["key_prefix", "key_hash"])
        locked._history_user = by
        locked._change_reason = "changed " + ", ".join(changed)
        also = []
        if {"interval_seconds", "grace_seconds"} & set(changed) and locked.last_ping_at is not None:
            # The next ping is now due by the new interval and grace, counted from the last one.
            locked.due_at = locked.due_after(locked.last_ping_at)
            also = ["due_at"]
        locked.save(update_fields=changed + also)
    return locked
