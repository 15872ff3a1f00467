"""Writes for people and teams. Every change goes through one of these."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from ..models import Membership, Team, User
from ..permissions import can_manage_team


@transaction.atomic
def create_user(*, username: str, email: str = "", full_name: str = "", timezone: str = "UTC",
                password: str | None = None, is_staff: bool = False, is_superuser: bool = False,
                by=None) -> User:
    if by is not None and not by.is_staff:
        raise PermissionDenied("Only staff may create users.")
    user = User(username=username, email=email, full_name=full_name, timezone=timezone, is_staff=is_staff,
                is_superuser=is_superuser)
    user.full_clean(exclude=["password"])
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def create_team(*, slug: str, name: str, timezone: str = "UTC", description: str = "", by=None) -> Team:
    if by is not None and not by.is_staff:
        raise PermissionDenied("Only staff may create teams.")
    team = Team(slug=slug, name=name, timezone=timezone, description=description)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def update_team(*, team: Team, by=None, **fields) -> Team:
    if by is not None and not can_manage_team(by, team):
        raise PermissionDenied("Only the team's leads and managers may change it.")
    team = Team.objects.select_for_update().get(pk=team.pk)
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save(update_fields=list(fields))
    return team


@transaction.atomic
def set_membership(*, team: Team, user: User, role: str = Membership.Role.MEMBER, by=None) -> Membership:
    """Add a person to a team, or change their role there. Idempotent."""
    if by is not None and not can_manage_team(by, team):
        raise PermissionDenied("Only the team's leads and managers may change its members.")
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    if membership is None:
        membership = Membership(team=team, user=user, role=role)
    elif membership.role == role:
        return membership
    membership.role = role
    membership._history_user = by
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def remove_membership(*, membership: Membership, by=None) -> None:
    if by is not None and not can_manage_team(by, membership.team):
        raise PermissionDenied("Only the team's leads and managers may change its members.")
    membership._history_user = by
    membership.delete()
