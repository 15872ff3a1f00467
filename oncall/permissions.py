"""Who may see and change what. One place, used by services, pages and the API.

The rule: staff see and change everything; a member sees and acts on the
incidents and services of their teams; a team's lead or manager may also
change its settings, services, members, rotations, integrations and
maintenance. Callers turn "may not see" into a 404 (a foreign object does not
exist for them) and "may see but not change" into a 403.

``can_manage_team`` is the one answer to "may this person manage this team";
``require_team_manager`` is the same answer as a refusal, for services, pages
and API views alike.
"""

from django.core.exceptions import PermissionDenied

from .models import Membership, Team

MANAGING_ROLES = (Membership.Role.LEAD, Membership.Role.MANAGER)


def can_view_team(user, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(team=team, user=user).exists()


def can_manage_team(user, team: Team) -> bool:
    """Staff, and the team's leads and managers, may change the team and what belongs to it."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(team=team, user=user, role__in=MANAGING_ROLES).exists()


def require_team_manager(user, team: Team, *, to: str) -> None:
    """Refuse (PermissionDenied, a 403) anyone who may not manage ``team``; ``to`` says what they tried,
    e.g. ``to="change its services"``. ``user=None`` is Vigil itself (a task, a command): always allowed."""
    if user is not None and not can_manage_team(user, team):
        raise PermissionDenied(f"Only the leads and managers of team {team.slug} may {to}.")


def team_leads():
    """The leads' memberships (not the managers'): who hears of a team's overdue work, e.g. postmortem
    reminders. Filter it further (``team__in=…``, ``user__timezone__in=…``)."""
    return Membership.objects.filter(role=Membership.Role.LEAD)
