"""Every write to people, teams and schedules goes through these functions."""

from .people import create_team, create_user, remove_membership, set_membership, update_team

__all__ = ["create_team", "create_user", "remove_membership", "set_membership", "update_team"]
