"""Schedules as files: a team's rotations, participants and overrides as YAML.

The shape (see the README, "On-call")::

    team: payments
    rotations:
    - name: Payments primary
      layer: primary
      timezone: Europe/Berlin
      shift_length: P7D
      handoff_at: '2026-03-02T09:00:00'     # local wall-clock time of the first hand-off
      ends_at: null
      restrictions: []
      participants:                         # participant sets, each in force from its moment
      - from: '2026-03-02T08:00:00+00:00'
        users: [alice, bob]
      overrides:                            # in creation order: a later one wins where they overlap
      - {user: nora, start: '2026-03-08T20:00:00+00:00', end: '2026-03-09T12:00:00+00:00', reason: ''}

Exporting, importing and exporting again gives the same text; importing a
file that matches the database writes nothing. Writes go through
``oncall.services.import_schedule``.
"""

from datetime import UTC, datetime

import yaml

from .queries import rotations_with_overrides


def _instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def rotation_document(rotation) -> dict:
    versions: dict[datetime, list[str]] = {}
    for row in sorted(rotation.participants.all(), key=lambda p: (p.effective_from, p.position)):
        versions.setdefault(row.effective_from, []).append(row.user.username)
    overrides = sorted(rotation.overrides.all(), key=lambda o: (o.created_at, o.id))
    return {
        "name": rotation.name,
        "layer": rotation.layer,
        "timezone": rotation.timezone,
        "shift_length": rotation.shift_length,
        "handoff_at": rotation.first_handoff.isoformat(),
        "ends_at": _instant(rotation.ends_at),
        "restrictions": rotation.restrictions or [],
        "participants": [{"from": _instant(moment), "users": users} for moment, users in versions.items()],
        "overrides": [
            {"user": o.user.username, "start": _instant(o.start_at), "end": _instant(o.end_at), "reason": o.reason}
            for o in overrides
        ],
    }


def export_schedule(team) -> str:
    document = {"team": team.slug, "rotations": [rotation_document(r) for r in rotations_with_overrides(team)]}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)


def parse_schedule(text: str) -> dict:
    """Parse and shape-check a schedule file; raises ``ValueError`` saying what to fix."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"Not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("rotations"), list):
        raise ValueError("A schedule file is a mapping with a 'rotations' list (export one to see the shape).")
    required = {"name", "layer", "timezone", "shift_length", "handoff_at", "participants"}
    for n, rotation in enumerate(document["rotations"], 1):
        if not isinstance(rotation, dict) or not required <= set(rotation):
            raise ValueError(f"Rotation {n} needs {', '.join(sorted(required))}.")
        for version in rotation["participants"]:
            if not isinstance(version, dict) or not isinstance(version.get("users"), list):
                raise ValueError(f"Rotation {rotation['name']!r}: each participants entry needs 'from' and 'users'.")
        for override in rotation.get("overrides") or []:
            if not isinstance(override, dict) or not {"user", "start", "end"} <= set(override):
                raise ValueError(f"Rotation {rotation['name']!r}: each override needs user, start and end.")
    return document


def parse_instant(value, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"{what}: {value!r} is not an ISO 8601 date-time.") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{what}: {value!r} needs a UTC offset, e.g. '2026-03-02T08:00:00+00:00'.")
    return parsed.astimezone(UTC)
