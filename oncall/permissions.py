"""Who may see and change what. One place, used by services, views and the API.

The rule: staff see and change everything; a member sees and acts on the
incidents and services of their teams; a team's lead or manager may also
change its settings, services and members. Callers turn "may not see" into a
404 (a foreign object does not exist for them) and "may see but not change"
into a 403.
"""

from .models import Membership, Team


def can_view_team(user, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(team=team, user=user).exists()


def can_manage_team(user, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(
        team=team, user=user, role__in=[Membership.Role.LEAD, Membership.Role.MANAGER]
    ).exists()
