"""Writes for escalation policies: create, change, delete, and import from a schedule file.

Each function takes keyword-only arguments, owns one transaction, refuses
anyone but the team's leads and managers (and staff; ``by=None`` is Vigil
itself), and records the acting user and a reason in the policy's history.
Steps arrive in the API's form (usernames, slugs, layer names) and are stored
by key; ``oncall.targets`` translates both ways and says what is wrong.

A team has at most one default policy (a partial unique constraint): making
one the default un-defaults the previous one in the same transaction, with a
history row of its own. Writes lock the team's row first, so two people making
two policies the default at once apply one after the other instead of one of
them failing on the constraint.

Deleting a policy leaves the services that named it without one (the
database sets their ``escalation_policy`` to null) and removes their
per-severity choices of it; their incidents then use the team's default
policy. Runs already under way keep their snapshot.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import EscalationPolicy, Team
from ..models.escalation import MAX_REPEAT
from ..permissions import require_team_manager
from ..targets import steps_from_api, steps_to_api

__all__ = ["create_policy", "delete_policy", "import_policies", "steps_from_api", "steps_to_api", "update_policy"]

TO = "change its escalation policies"
POLICY_FIELDS = ("name", "description", "steps", "repeat", "is_default")


def _lock_team(team: Team) -> Team:
    return Team.objects.select_for_update().get(pk=team.pk)


def _check_repeat(repeat) -> None:
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 0 <= repeat <= MAX_REPEAT:
        raise ValidationError({"repeat": f"repeat is how many more times the whole list of steps runs after its "
                                         f"last one: a whole number from 0 to {MAX_REPEAT}."})


def _check_name(team: Team, name: str, pk: int | None) -> None:
    if EscalationPolicy.objects.filter(team=team, name=name).exclude(pk=pk).exists():
        raise ValidationError({"name": f"Team {team.slug} already has a policy named {name!r}; choose another name."})


def _undefault_others(policy: EscalationPolicy, by) -> None:
    for old in EscalationPolicy.objects.select_for_update().filter(team_id=policy.team_id, is_default=True) \
            .exclude(pk=policy.pk):
        old.is_default = False
        old._history_user = by
        old._change_reason = f"no longer the default: {policy.name} is"
        old.save(update_fields=["is_default"])


@transaction.atomic
def create_policy(*, team: Team, name: str, steps: list, repeat: int = 0, description: str = "",
                  is_default: bool = False, by) -> EscalationPolicy:
    """A new policy of ``team`` from API-form ``steps``; ``is_default`` makes it the team's default."""
    require_team_manager(by, team, to=TO)
    team = _lock_team(team)
    _check_repeat(repeat)
    policy = EscalationPolicy(team=team, name=name, description=description or "", repeat=repeat,
                              is_default=bool(is_default), steps=steps_from_api(steps, team))
    policy.full_clean(exclude=["team"], validate_constraints=False)
    _check_name(team, policy.name, None)
    if policy.is_default:
        _undefault_others(policy, by)
    policy._history_user = by
    policy._change_reason = "created" + (" as the team's default" if policy.is_default else "")
    policy.save()
    return policy


@transaction.atomic
def update_policy(*, policy: EscalationPolicy, by, reason: str = "", **fields) -> EscalationPolicy:
    """Change some of name, description, steps (API form), repeat, is_default. A change that changes
    nothing writes nothing (no history row). Runs already under way keep the steps they started with."""
    unknown = sorted(set(fields) - set(POLICY_FIELDS))
    if unknown:
        raise ValidationError({key: "A policy stays with its team; create one in the other team instead."
                               if key == "team" else "Not a field of an escalation policy." for key in unknown})
    require_team_manager(by, policy.team, to=TO)
    _lock_team(policy.team)
    policy = EscalationPolicy.objects.select_for_update(of=("self",)).select_related("team").get(pk=policy.pk)
    if "steps" in fields:
        fields["steps"] = steps_from_api(fields["steps"], policy.team)
    if "repeat" in fields:
        _check_repeat(fields["repeat"])
    if "is_default" in fields:
        fields["is_default"] = bool(fields["is_default"])
    if fields.get("description") is None and "description" in fields:
        fields["description"] = ""
    changed = [key for key in POLICY_FIELDS if key in fields and getattr(policy, key) != fields[key]]
    if not changed:
        return policy
    for key in changed:
        setattr(policy, key, fields[key])
    policy.full_clean(exclude=["team"], validate_constraints=False)
    if "name" in changed:
        _check_name(policy.team, policy.name, policy.pk)
    if "is_default" in changed and policy.is_default:
        _undefault_others(policy, by)
    policy._history_user = by
    policy._change_reason = reason or f"changed {', '.join(changed)}"
    policy.save(update_fields=changed)
    return policy


@transaction.atomic
def delete_policy(*, policy: EscalationPolicy, by) -> None:
    """Delete a policy; its history keeps who did. Services that named it are left without one
    (their incidents use the team's default policy); runs under way keep their snapshot."""
    require_team_manager(by, policy.team, to=TO)
    policy = EscalationPolicy.objects.select_for_update(of=("self",)).select_related("team").get(pk=policy.pk)
    policy._history_user = by
    policy._change_reason = "deleted"
    policy.delete()


def import_policies(*, team: Team, items: list[dict], by) -> int:
    """Make ``team``'s policies match the schedule file's (already shape-checked by ``parse_schedule``);
    returns how many were created or changed. Matched by name; policies not in the file are left alone.
    Run inside ``import_schedule``'s transaction: a refusal (naming the policy and step) changes nothing."""
    changed = 0
    for item in items:
        name = item["name"]
        wanted = {"description": item.get("description") or "", "repeat": item.get("repeat", 0),
                  "is_default": bool(item.get("default", False)), "steps": item["steps"]}
        try:
            # Read afresh: making an earlier one the default may have changed this one.
            policy = EscalationPolicy.objects.filter(team=team, name=name).first()
            if policy is None:
                create_policy(team=team, name=name, by=by, **wanted)
                changed += 1
                continue
            stored = steps_from_api(wanted["steps"], team)
            differs = {key: value for key, value in wanted.items()
                       if (stored if key == "steps" else value) != getattr(policy, key)}
            if differs:
                update_policy(policy=policy, by=by, reason="imported", **differs)
                changed += 1
        except ValidationError as exc:
            messages = [f"{key}: {m}" if key not in ("steps", "__all__") else m
                        for key, ms in exc.message_dict.items() for m in ms] \
                if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError({"file": [f"Policy {name!r}: {m}" for m in messages]}) from exc
    return changed
