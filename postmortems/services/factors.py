"""The contributing-factor vocabulary: everyone's tags (staff keep them) and each team's own.

A team's members add, rename and retire their team's tags; a retired tag stays on the postmortems that
use it but is no longer offered. Tags are never deleted (postmortems point at them).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from oncall.models import Team, User
from oncall.permissions import can_view_team

from ..models import FactorTag


def _check_can_edit(by: User | None, team: Team | None) -> None:
    if by is None:
        return
    if team is None and not by.is_staff:
        raise PermissionDenied("Only staff change the tags every team shares; add one to your team instead.")
    if team is not None and not can_view_team(by, team):
        raise PermissionDenied(f"You are not a member of team {team.slug}.")


def _save(tag: FactorTag) -> FactorTag:
    tag.full_clean(exclude=["team"], validate_constraints=False)
    clash = FactorTag.objects.filter(team=tag.team, name__iexact=tag.name).exclude(pk=tag.pk)
    if clash.exists():
        where = f"team {tag.team.slug}" if tag.team else "the shared tags"
        raise ValidationError({"name": f"{where[0].upper()}{where[1:]} already has a tag named {tag.name!r}."})
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:  # the same name saved at the same moment
        raise ValidationError({"name": f"A tag named {tag.name!r} was just added; pick it."}) from None
    return tag


@transaction.atomic
def create_factor_tag(*, team: Team | None, name: str, by: User | None, description: str = "") -> FactorTag:
    """A new tag for ``team``'s postmortems (``team=None``: every team's; staff only)."""
    _check_can_edit(by, team)
    return _save(FactorTag(team=team, name=name.strip(), description=description.strip()))


@transaction.atomic
def update_factor_tag(*, tag: FactorTag, by: User | None, **fields) -> FactorTag:
    """Rename, describe, retire (``active=False``) or bring back a tag."""
    unknown = set(fields) - {"name", "description", "active"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = FactorTag.objects.select_for_update(of=("self",)).select_related("team").get(pk=tag.pk)
    _check_can_edit(by, locked.team)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    return _save(locked)
