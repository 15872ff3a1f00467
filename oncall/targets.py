"""Escalation targets: stored by key, spoken by name.

A policy stores its steps with primary keys (``oncall.models.escalation``);
the API, the YAML file, the admin and the pages speak usernames, slugs and
layer names. ``steps_from_api`` translates the spoken form into the stored one,
refusing what does not exist with a message naming the step and the target;
``steps_to_api`` and ``describe_steps`` go the other way, in a fixed number of
queries for any number of policies (``target_names``).

This module only reads; ``oncall.services.escalation`` writes. It sits outside
``services`` because ``schedule_files`` (which ``services`` imports) needs it too.

The API form::

    [{"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads"}]},
     {"delay_minutes": 30, "targets": [{"type": "user", "id": "erik"}, {"type": "rotation", "id": 4}]}]

``user``: a username; ``rotation``: a rotation's id (or, as the schedule file
writes it, the name of a rotation of the policy's team); ``layer``: a layer of
the policy's team; ``team_leads``, ``team_managers``, ``team``: a team's slug,
the policy's own team when left out.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core.text import refusal, unstorable_text

from .models import Rotation, Team, User
from .models.escalation import MAX_DELAY_MINUTES, MAX_STEPS, MAX_TARGETS, TARGET_TYPES

TEAM_TYPES = ("team_leads", "team_managers", "team")
STEP_KEYS = {"delay_minutes", "targets"}


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_shape(steps) -> list[str]:
    """Messages for what is wrong with the form of ``steps`` (not whether its names exist)."""
    if not isinstance(steps, list):
        return [f"steps must be a list of {{delay_minutes, targets}}, not {_kind(steps)}."]
    if not steps:
        return ["A policy needs at least one step."]
    if len(steps) > MAX_STEPS:
        return [f"A policy has at most {MAX_STEPS} steps; this one has {len(steps)}."]
    if where := unstorable_text(steps, "steps"):
        return [refusal(where)]
    errors = []
    for n, step in enumerate(steps, 1):
        if not isinstance(step, dict):
            errors.append(f"Step {n} must be an object {{delay_minutes, targets}}, not {_kind(step)}.")
            continue
        extra = sorted(str(key) for key in set(step) - STEP_KEYS)
        if extra:
            errors.append(f"Step {n}: unknown field {', '.join(extra)}; a step has delay_minutes and targets.")
        delay = step.get("delay_minutes")
        if not _whole(delay) or not 1 <= delay <= MAX_DELAY_MINUTES:
            errors.append(f"Step {n}: delay_minutes must be a whole number of minutes from 1 to {MAX_DELAY_MINUTES}"
                          f" (how long to wait for an acknowledgement before the next step), not "
                          f"{delay if _whole(delay) else _kind(delay)}.")
        targets = step.get("targets")
        if not isinstance(targets, list) or not 1 <= len(targets) <= MAX_TARGETS:
            errors.append(f"Step {n}: targets must be a list of 1 to {MAX_TARGETS} {{type, id}} objects.")
            continue
        for m, target in enumerate(targets, 1):
            where = f"Step {n}, target {m}"
            if not isinstance(target, dict) or not set(target) <= {"type", "id"} or "type" not in target:
                errors.append(f"{where}: give {{type, id}}.")
                continue
            kind, ident = target["type"], target.get("id")
            if kind not in TARGET_TYPES:
                errors.append(f"{where}: unknown type {kind!r}; use one of {', '.join(TARGET_TYPES)}.")
            elif kind == "rotation":
                if not (_whole(ident) or (isinstance(ident, str) and ident.strip())):
                    errors.append(f"{where}: a rotation's id is its number (GET /api/v1/rotations/), "
                                  f"not {_kind(ident)}.")
            elif kind in TEAM_TYPES:
                if ident is not None and not (isinstance(ident, str) and ident.strip()):
                    errors.append(f"{where}: a team's id is its slug (or leave it out for the policy's own "
                                  f"team), not {_kind(ident)}.")
            elif not (isinstance(ident, str) and ident.strip()):
                what = "a username" if kind == "user" else "a layer's name, such as 'primary'"
                errors.append(f"{where}: a {kind} target's id is {what}, not {_kind(ident)}.")
    return errors


def steps_from_api(steps, team: Team) -> list[dict]:
    """The stored form of API-form ``steps`` for a policy of ``team``.

    Raises ``ValidationError({"steps": [...]})`` with one message per problem,
    each naming the step and target: unknown username, rotation or team, a
    deactivated person, a layer the team does not have, a target listed twice.
    Reads a fixed number of rows, however many steps.
    """
    errors = _check_shape(steps)
    if errors:
        raise ValidationError({"steps": errors})
    wanted: dict[str, set] = {"user": set(), "rotation": set(), "rotation_name": set(), "team": set()}
    for step in steps:
        for target in step["targets"]:
            kind, ident = target["type"], target.get("id")
            if kind == "user":
                wanted["user"].add(ident.strip())
            elif kind == "rotation":
                wanted["rotation" if _whole(ident) else "rotation_name"].add(ident if _whole(ident) else ident.strip())
            elif kind in TEAM_TYPES and ident is not None:
                wanted["team"].add(ident.strip())
    users = {u.username: u for u in User.objects.filter(username__in=wanted["user"])} if wanted["user"] else {}
    rotation_ids = set(Rotation.objects.filter(pk__in=[i for i in wanted["rotation"] if 0 < i < 2**63])
                       .values_list("pk", flat=True)) if wanted["rotation"] else set()
    own_rotations = dict(Rotation.objects.filter(team=team).values_list("name", "pk")) \
        if wanted["rotation_name"] else {}
    layers = sorted(set(Rotation.objects.filter(team=team).values_list("layer", flat=True)))
    teams = dict(Team.objects.filter(slug__in=wanted["team"]).values_list("slug", "pk")) if wanted["team"] else {}

    stored = []
    for n, step in enumerate(steps, 1):
        targets, seen = [], set()
        for m, target in enumerate(step["targets"], 1):
            where = f"Step {n}, target {m}"
            kind, ident = target["type"], target.get("id")
            key = None
            if kind == "user":
                user = users.get(ident.strip())
                if user is None:
                    errors.append(f"{where}: no user {ident!r}; give a username.")
                elif not user.is_active:
                    errors.append(f"{where}: {user.username} is deactivated and cannot be paged; choose someone else.")
                else:
                    key = user.pk
            elif kind == "rotation":
                if _whole(ident):
                    key = ident if ident in rotation_ids else None
                    if key is None:
                        errors.append(f"{where}: no rotation {ident}; give the id of a rotation "
                                      "(GET /api/v1/rotations/).")
                else:
                    key = own_rotations.get(ident.strip())
                    if key is None:
                        errors.append(f"{where}: team {team.slug} has no rotation named {ident.strip()!r}.")
            elif kind == "layer":
                key = ident.strip()
                if key not in layers:
                    has = f"its layers are {', '.join(layers)}" if layers else "it has no rotations yet"
                    errors.append(f"{where}: team {team.slug} has no layer {key!r}; {has}.")
                    key = None
            else:
                if ident is None:
                    key = team.pk
                else:
                    key = teams.get(ident.strip())
                    if key is None:
                        errors.append(f"{where}: no team {ident!r}; give a team's slug, or leave id out for "
                                      f"team {team.slug}.")
            if key is None:
                continue
            if (kind, key) in seen:
                errors.append(f"{where}: the step already pages this {kind.replace('_', ' ')}; list it once.")
                continue
            seen.add((kind, key))
            targets.append({"type": kind, "id": key})
        stored.append({"delay_minutes": step["delay_minutes"], "targets": targets})
    if errors:
        raise ValidationError({"steps": errors})
    return stored


# --- Stored form → names ------------------------------------------------------------

@dataclass
class Names:
    """The rows the stored targets of some policies point at, by primary key."""

    users: dict[int, User] = field(default_factory=dict)
    rotations: dict[int, Rotation] = field(default_factory=dict)
    teams: dict[int, Team] = field(default_factory=dict)


def target_names(step_lists) -> Names:
    """Everything ``steps_to_api`` and ``describe_steps`` need for these stored step lists: three queries at most."""
    ids: dict[str, set[int]] = {"user": set(), "rotation": set(), "team": set()}
    for steps in step_lists:
        for step in steps or []:
            for target in step.get("targets", []):
                kind = "team" if target["type"] in TEAM_TYPES else target["type"]
                if kind in ids:
                    ids[kind].add(target["id"])
    return Names(
        users=User.objects.in_bulk(ids["user"]) if ids["user"] else {},
        rotations=Rotation.objects.select_related("team").in_bulk(ids["rotation"]) if ids["rotation"] else {},
        teams=Team.objects.in_bulk(ids["team"]) if ids["team"] else {},
    )


def steps_to_api(stored, names: Names | None = None, *, team_id: int | None = None) -> list[dict]:
    """The API form of stored steps. With ``team_id`` (the schedule file), rotations of that team are
    named rather than numbered and the team itself is left unsaid, so the file means the same in
    another team or another Vigil. A target whose row is
    gone keeps its number as id (a person's or a team's too): the policy shows what it pointed at."""
    names = names if names is not None else target_names([stored])
    out = []
    for step in stored or []:
        targets = []
        for target in step["targets"]:
            kind, key = target["type"], target["id"]
            if kind == "user":
                user = names.users.get(key)
                ident = user.username if user is not None else key
            elif kind == "rotation":
                rotation = names.rotations.get(key)
                ident = rotation.name if rotation is not None and rotation.team_id == team_id else key
            elif kind in TEAM_TYPES:
                if key == team_id:
                    targets.append({"type": kind})  # the policy's own team, wherever the file is imported
                    continue
                found = names.teams.get(key)
                ident = found.slug if found is not None else key
            else:
                ident = key
            targets.append({"type": kind, "id": ident})
        out.append({"delay_minutes": step["delay_minutes"], "targets": targets})
    return out


def target_label(target: dict, names: Names, team: Team | None = None) -> str:
    """One stored target in words: "Erik Eriksen", "on call in Payments primary", "leads of Platform"."""
    kind, key = target["type"], target["id"]
    if kind == "user":
        user = names.users.get(key)
        if user is None:
            return "a person no longer in Vigil"
        return user.display_name + ("" if user.is_active else " (deactivated: not paged)")
    if kind == "rotation":
        rotation = names.rotations.get(key)
        if rotation is None:
            return "a deleted rotation (nobody)"
        where = "" if team is not None and rotation.team_id == team.pk else f"{rotation.team.name} · "
        return f"whoever is on call in {where}{rotation.name}"
    if kind == "layer":
        return f"whoever is on call in the {key} layer"
    found = names.teams.get(key)
    name = found.name if found is not None else "a deleted team"
    return {"team_leads": f"leads of {name}", "team_managers": f"managers of {name}",
            "team": f"everyone in {name}"}[kind]


@dataclass
class StepInWords:
    number: int
    at_minutes: int  # entered this long after the escalation starts (first time round)
    delay_minutes: int
    targets: list[str]


def describe_steps(stored, names: Names, team: Team | None = None) -> list[StepInWords]:
    """Each step with the minute it is entered and its targets in words, for pages."""
    out, at = [], 0
    for n, step in enumerate(stored or [], 1):
        out.append(StepInWords(n, at, step["delay_minutes"], [target_label(t, names, team) for t in step["targets"]]))
        at += step["delay_minutes"]
    return out
