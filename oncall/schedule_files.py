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
    policies:                               # escalation policies, matched by name (only when the team has any)
    - name: SEV1
      description: ''
      repeat: 1
      default: false
      steps:                                # the API's form; a rotation of this team by its name
      - delay_minutes: 15
        targets:
        - {type: rotation, id: Payments primary}
        - {type: team_leads, id: payments}
      - delay_minutes: 30
        targets:
        - {type: user, id: erik}

Exporting, importing and exporting again gives the same text; importing a
file that matches the database writes nothing. Writes go through
``oncall.services.import_schedule`` (policies: ``import_policies``).
"""

from datetime import UTC, date, datetime

import yaml

from core.instants import in_range, range_message
from core.text import UNSTORABLE, refusal

from .models import EscalationPolicy
from .models.escalation import MAX_REPEAT
from .queries import rotations_with_overrides
from .targets import steps_to_api, target_names


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


def policy_document(policy, names=None) -> dict:
    """A policy as the file writes it: the API's form, but rotations of its own team by name."""
    names = names if names is not None else target_names([policy.steps])
    return {"name": policy.name, "description": policy.description, "repeat": policy.repeat,
            "default": policy.is_default, "steps": steps_to_api(policy.steps, names, team_id=policy.team_id)}


def export_schedule(team) -> str:
    document = {"team": team.slug, "rotations": [rotation_document(r) for r in rotations_with_overrides(team)]}
    # Only a team with policies has the key: files of teams without any read as they always have.
    policies = list(EscalationPolicy.objects.filter(team=team).order_by("name"))
    if policies:
        names = target_names([p.steps for p in policies])
        document["policies"] = [policy_document(p, names) for p in policies]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)


def _text(value, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be text, not {_kind(value)}.")
    if not empty and not value.strip():
        raise ValueError(f"{where} must not be empty.")
    if UNSTORABLE.search(value):  # YAML's escapes ("\0", "\ud800") can write both
        raise ValueError(refusal(where))
    return value


def _moment(value, where: str, *, optional: bool = False):
    """A date-time as YAML gives it: a quoted string, or a date-time or date YAML read itself."""
    if value is None and optional:
        return None
    if isinstance(value, date):  # datetime included
        return value
    return _text(value, where)


def _kind(value) -> str:
    return "nothing (null)" if value is None else f"{type(value).__name__} {value!r}"[:80]


def _rotation(rotation, n: int) -> dict:
    required = ("name", "layer", "timezone", "shift_length", "handoff_at", "participants")
    if not isinstance(rotation, dict) or not set(required) <= set(rotation):
        raise ValueError(f"Rotation {n} needs {', '.join(sorted(required))}.")
    name = _text(rotation["name"], f"Rotation {n}: name")
    at = f"Rotation {name!r}"
    for key in ("layer", "timezone", "shift_length"):
        _text(rotation[key], f"{at}: {key}")
    _moment(rotation["handoff_at"], f"{at}: handoff_at")
    _moment(rotation.get("ends_at"), f"{at}: ends_at", optional=True)
    if not isinstance(rotation.get("restrictions") or [], list):
        raise ValueError(f"{at}: restrictions must be a list of {{days, start, end}} windows.")
    versions = rotation["participants"]
    if not isinstance(versions, list) or not versions:
        raise ValueError(f"{at}: participants must be a list of {{from, users}} entries, not {_kind(versions)}.")
    for i, version in enumerate(versions, 1):
        if not isinstance(version, dict) or not {"from", "users"} <= set(version) \
                or not isinstance(version["users"], list):
            raise ValueError(f"{at}: participants entry {i} needs 'from' (a date-time with offset, or null) "
                             "and 'users' (a list of usernames).")
        _moment(version["from"], f"{at}: participants entry {i} from", optional=True)
        for user in version["users"]:
            _text(user, f"{at}: participants entry {i}: each user")
    overrides = rotation.get("overrides")
    if overrides is not None and not isinstance(overrides, list):
        raise ValueError(f"{at}: overrides must be a list, not {_kind(overrides)}.")
    for i, override in enumerate(overrides or [], 1):
        if not isinstance(override, dict) or not {"user", "start", "end"} <= set(override):
            raise ValueError(f"{at}: each override needs user, start and end.")
        _text(override["user"], f"{at}: override {i} user")
        _moment(override["start"], f"{at}: override {i} start")
        _moment(override["end"], f"{at}: override {i} end")
        if override.get("reason") is not None:
            _text(override["reason"], f"{at}: override {i} reason", empty=True)
    return rotation


def _policy(policy, n: int) -> dict:
    if not isinstance(policy, dict) or not {"name", "steps"} <= set(policy):
        raise ValueError(f"Policy {n} needs a name and steps.")
    at = f"Policy {_text(policy['name'], f'Policy {n}: name')!r}"
    if policy.get("description") is not None:
        _text(policy["description"], f"{at}: description", empty=True)
    repeat = policy.get("repeat", 0)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 0 <= repeat <= MAX_REPEAT:
        raise ValueError(f"{at}: repeat must be a whole number from 0 to {MAX_REPEAT}, not {_kind(repeat)}.")
    if not isinstance(policy.get("default", False), bool):
        raise ValueError(f"{at}: default must be true or false, not {_kind(policy['default'])}.")
    if not isinstance(policy["steps"], list):
        raise ValueError(f"{at}: steps must be a list of {{delay_minutes, targets}}, not {_kind(policy['steps'])}.")
    return policy  # the steps' contents are checked, step by step, by oncall.targets.steps_from_api


def _policies(policies) -> None:
    if not isinstance(policies, list):
        raise ValueError(f"policies must be a list, not {_kind(policies)}.")
    for n, policy in enumerate(policies, 1):
        _policy(policy, n)
    names = [p["name"] for p in policies]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"Policy {twice[0]!r} is in the file twice; each name once.")
    defaults = [p["name"] for p in policies if p.get("default")]
    if len(defaults) > 1:
        raise ValueError(f"Only one policy may be the default; the file marks {', '.join(map(repr, defaults))}.")


def parse_schedule(text: str) -> dict:
    """Parse and shape-check a schedule file; raises ``ValueError`` naming the field to fix.

    Every field the import reads is checked for its type here, so what
    reaches the services is the shape they expect.
    """
    try:
        document = yaml.safe_load(text)
    except RecursionError:
        raise ValueError("Not valid YAML: it is nested too deeply.") from None
    # PyYAML raises more than YAMLError for some tagged values (!!int x, a year-0 timestamp).
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"Not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("rotations"), list):
        raise ValueError("A schedule file is a mapping with a 'rotations' list (export one to see the shape).")
    for n, rotation in enumerate(document["rotations"], 1):
        _rotation(rotation, n)
    if "policies" in document:
        _policies(document["policies"])
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
    if not in_range(parsed):
        raise ValueError(f"{what}: {range_message(repr(str(value)))}")
    return parsed.astimezone(UTC)
