"""Writes of the comms app: status page components (the admin calls these)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from core.text import MESSAGE, UNSTORABLE
from incidents.models import Service
from oncall.models import Team, User
from oncall.permissions import require_team_manager

from . import templating
from .models import CommTemplate, Component, ComponentStatus, TemplateKind

COMPONENT_FIELDS = {"name", "description", "position", "status_override", "override_reason"}


def _check(*, team: Team, services, status_override: str, override_reason: str) -> None:
    if status_override and status_override not in ComponentStatus.values:
        raise ValidationError({"status_override": f"Unknown status {status_override!r}; leave it blank or use one of "
                                                  f"{', '.join(ComponentStatus.values)}."})
    if override_reason and not status_override:
        raise ValidationError({"override_reason": "A reason only goes with a status set by hand; clear it."})
    foreign = sorted(s.slug for s in services if s.team_id != team.pk)
    if foreign:
        raise ValidationError({"services": f"Services of another team: {', '.join(foreign)}; "
                                           f"a component shows only its own team's services."})


@transaction.atomic
def create_component(*, team: Team, name: str, by: User | None, description: str = "",
                     services: list[Service] = (), position: int = 0, status_override: str = "",
                     override_reason: str = "") -> Component:
    """Add a component to ``team``'s status page. Only the team's leads and managers (or staff) may."""
    require_team_manager(by, team, to="change its status page")
    services = list(services)
    _check(team=team, services=services, status_override=status_override, override_reason=override_reason)
    component = Component(team=team, name=name.strip(), description=description.strip(), position=position,
                          status_override=status_override, override_reason=override_reason.strip())
    component.full_clean()
    component.save()
    component.services.set(services)
    return component


@transaction.atomic
def update_component(*, component: Component, by: User | None, services: list[Service] | None = None,
                     **fields) -> Component:
    """Change a component; its row is locked while it changes. ``services``, when given, replaces the mapping."""
    unknown = set(fields) - COMPONENT_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = Component.objects.select_for_update().select_related("team").get(pk=component.pk)
    require_team_manager(by, locked.team, to="change its status page")
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) and name != "status_override" else value)
    current = list(locked.services.all()) if services is None else list(services)
    _check(team=locked.team, services=current, status_override=locked.status_override,
           override_reason=locked.override_reason)
    locked.full_clean()
    locked.save()  # every field may have changed; updated_at moves the status page's ETag
    if services is not None:
        locked.services.set(current)
    return locked


@transaction.atomic
def delete_component(*, component: Component, by: User | None) -> None:
    """Take a component off the status page."""
    locked = Component.objects.select_for_update().select_related("team").get(pk=component.pk)
    require_team_manager(by, locked.team, to="change its status page")
    locked.delete()


# --- Communication templates ------------------------------------------------------------------------------

def require_template_editor(by: User | None, team: Team | None) -> None:
    """The organisation's templates: staff. A team's override: its leads and managers, or staff."""
    if team is not None:
        require_team_manager(by, team, to="change its communication templates")
    elif by is not None and not by.is_staff:
        raise PermissionDenied("Only staff may change the organisation's communication templates; "
                               "a team's leads and managers may give their team its own.")


def _check_template_text(*, kind: str, subject: str, body: str) -> None:
    if kind not in TemplateKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}; use one of {', '.join(TemplateKind.values)}."})
    errors: dict[str, list[str]] = {}
    for field, text in (("subject", subject), ("body", body)):
        if UNSTORABLE.search(text):
            errors[field] = [f"The {field} {MESSAGE}"]
        else:
            problems = templating.problems_in(text, kind=kind)
            if problems:
                errors[field] = problems
    if not body.strip() and "body" not in errors:
        errors["body"] = ["A template needs a body."]
    if errors:
        raise ValidationError(errors)


def save_template(*, team: Team | None, kind: str, subject: str, body: str, by: User | None) -> CommTemplate:
    """Write the organisation's template of ``kind`` (``team=None``; staff only) or ``team``'s override of it
    (its leads and managers, or staff), creating it or changing it. Both texts are checked by
    ``templating.validate``'s rules first. The row is locked while it changes; saving the same text again
    writes nothing (no empty history row)."""
    require_template_editor(by, team)
    subject, body = subject.strip(), body.strip()
    _check_template_text(kind=kind, subject=subject, body=body)
    try:
        return _write_template(team=team, kind=kind, subject=subject, body=body, by=by)
    except IntegrityError:
        # Two people adding the same override at once: the unique constraint refused the second insert,
        # which now finds and changes the row the first one made.
        return _write_template(team=team, kind=kind, subject=subject, body=body, by=by)


@transaction.atomic
def _write_template(*, team: Team | None, kind: str, subject: str, body: str, by: User | None) -> CommTemplate:
    rows = CommTemplate.objects.select_for_update().filter(kind=kind).order_by("pk")  # no join on the team
    template = (rows.filter(team=team) if team is not None else rows.filter(team__isnull=True)).first()
    if template is None:
        template = CommTemplate(team=team, kind=kind)
        reason = "team override added" if team is not None else "created"
    elif (template.subject, template.body) == (subject, body):
        return template
    else:
        reason = "changed " + " and ".join(
            name for name, old, new in (("subject", template.subject, subject), ("body", template.body, body))
            if old != new)
    template.subject, template.body, template.updated_by = subject, body, by
    template.full_clean()
    template._history_user = by
    template._change_reason = reason
    template.save()
    return template


@transaction.atomic
def delete_template(*, template: CommTemplate, by: User | None) -> None:
    """Remove a team's override: the team uses the organisation's template again. The organisation's own
    templates are never deleted, only edited (every team without an override falls back on them)."""
    # Only this row is locked: the team is on the nullable side of the join, which PostgreSQL cannot lock.
    locked = (CommTemplate.objects.select_for_update(of=("self",)).select_related("team").filter(pk=template.pk)
              .order_by().first())
    if locked is None:
        return  # already removed: the outcome asked for
    if locked.team is None:
        raise ValidationError({"team": "The organisation's templates cannot be deleted, only edited: every team "
                                       "without its own falls back on them."})
    require_team_manager(by, locked.team, to="change its communication templates")
    locked._history_user = by
    locked._change_reason = "team override removed"
    locked.delete()
