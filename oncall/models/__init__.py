from .escalation import EscalationPolicy
from .people import Membership, Team, User
from .schedule import (
    CalendarToken,
    HandoffNote,
    HandoffNotice,
    Override,
    Rotation,
    RotationParticipant,
    ShiftReminder,
    SwapRequest,
)

__all__ = [
    "CalendarToken",
    "EscalationPolicy",
    "HandoffNote",
    "HandoffNotice",
    "Membership",
    "Override",
    "Rotation",
    "RotationParticipant",
    "ShiftReminder",
    "SwapRequest",
    "Team",
    "User",
]
