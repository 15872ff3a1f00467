"""Writes for the service catalogue: the services incidents affect.

Only a team's leads and managers (or staff) may add or change its services;
moving a service to another team needs that right on both teams.

A service may name an escalation policy of its own team (its default), and
another per severity (``SeverityPolicy`` rows; a write replaces the whole
mapping). Moving a service to another team drops the choices of the old
team's policies that the move does not replace: its incidents then use the
new team's default policy. Both choices are recorded in the service's history.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from oncall.models import EscalationPolicy, Team, User
from oncall.permissions import require_team_manager

from ..models import Service, Severity, SeverityPolicy

SERVICE_FIELDS = {"slug", "name", "team", "description", "runbook_url", "runbook", "escalation_policy"}


def _check_policy(team: Team, policy: EscalationPolicy | None, field: str, what: str = "") -> None:
    if policy is not None and policy.team_id != team.pk:
        raise ValidationError({field: f"{what}Policy {policy.name!r} is not one of team {team.slug}'s policies; "
                                      "a service uses the policies of its own team."})


def _severity_map(team: Team, mapping: dict) -> dict[int, EscalationPolicy]:
    """``{Severity or its name: policy}`` → ``{severity id: policy}``, every policy of ``team``."""
    severities = {s.name: s for s in Severity.objects.all()}
    out = {}
    for key, policy in mapping.items():
        severity = key if isinstance(key, Severity) else severities.get(str(key).upper())
        if severity is None:
            raise ValidationError({"escalation_policies": f"Unknown severity {key!r}; use "
                                                          f"{', '.join(severities)}."})
        _check_policy(team, policy, "escalation_policies", f"{severity.name}: ")
        out[severity.pk] = policy
    return out


def _write_severity_map(service: Service, wanted: dict[int, EscalationPolicy]) -> str | None:
    """Replace the service's per-severity policies; what changed in words, or None if nothing did."""
    current = {sp.severity_id: sp.policy_id for sp in SeverityPolicy.objects.filter(service=service)}
    if current == {sev: p.pk for sev, p in wanted.items()}:
        return None
    SeverityPolicy.objects.filter(service=service).delete()
    SeverityPolicy.objects.bulk_create(SeverityPolicy(service=service, severity_id=sev, policy=policy)
                                       for sev, policy in wanted.items())
    names = {s.pk: s.name for s in Severity.objects.filter(pk__in=wanted)}
    said = ", ".join(f"{names[sev]} → {wanted[sev].name}" for sev in sorted(wanted, key=lambda s: names[s]))
    return f"escalation policies per severity: {said or 'none'}"


@transaction.atomic
def create_service(
    *, slug: str, name: str, team: Team, by: User | None, description: str = "", runbook_url: str = "",
    runbook: str = "", escalation_policy: EscalationPolicy | None = None,
    escalation_policies: dict | None = None,
) -> Service:
    """Add a service to a team's catalogue. Validates the slug's uniqueness and the URL, and that its
    escalation policies (default and per severity, ``{"SEV1": policy}``) are the team's own."""
    require_team_manager(by, team, to="change its services")
    _check_policy(team, escalation_policy, "escalation_policy")
    per_severity = _severity_map(team, escalation_policies or {})
    service = Service(
        slug=slug, name=name, team=team, description=description, runbook_url=runbook_url, runbook=runbook,
        escalation_policy=escalation_policy,
    )
    service.full_clean()
    service._history_user = by
    service._change_reason = "created"
    service.save()
    if per_severity:
        _write_severity_map(service, per_severity)
    return service


_UNSET = object()


@transaction.atomic
def update_service(*, service: Service, by: User | None, reason: str = "", escalation_policies=_UNSET,
                   **fields) -> Service:
    """Change a service's details; locks its row so concurrent edits apply one after the other.

    ``escalation_policies`` (``{"SEV1": policy, ...}``), when given, replaces the per-severity mapping."""
    unknown = set(fields) - SERVICE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Service.objects.select_for_update(of=("self",)).select_related("escalation_policy").get(pk=service.pk)
    require_team_manager(by, locked.team, to="change its services")
    team = locked.team
    if "team" in fields and fields["team"].pk != locked.team_id:
        team = fields["team"]
        require_team_manager(by, team, to="change its services")
        # The old team's policies do not follow the service: its incidents use the new team's unless named.
        if "escalation_policy" not in fields and locked.escalation_policy_id is not None:
            fields["escalation_policy"] = None
        if escalation_policies is _UNSET:
            escalation_policies = {sp.severity: sp.policy for sp in SeverityPolicy.objects.filter(service=locked)
                                   .select_related("severity", "policy") if sp.policy.team_id == team.pk}
    if "escalation_policy" in fields:
        _check_policy(team, fields["escalation_policy"], "escalation_policy")
    per_severity = None if escalation_policies is _UNSET else _severity_map(team, escalation_policies or {})
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    said = []
    if changed:
        for name in changed:
            setattr(locked, name, fields[name])
        locked.full_clean()
        said.append(f"changed {', '.join(changed)}")
    if per_severity is not None and (mapping := _write_severity_map(locked, per_severity)):
        said.append(mapping)
    if said:
        locked._history_user = by
        locked._change_reason = reason[:100] or "; ".join(said)
        # The mapping is not a field of the row: saving the name, unchanged, gives it a history row of its own.
        locked.save(update_fields=changed or ["name"])
    return locked
