from .people import Membership, Team, User

__all__ = ["Membership", "Team", "User"]
