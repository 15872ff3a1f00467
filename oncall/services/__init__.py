"""Every write to people, teams and schedules goes through these functions."""

from .escalation import create_policy, delete_policy, import_policies, update_policy
from .handoffs import send_due_handoffs, send_shift_reminders
from .people import (
    create_team,
    create_user,
    remove_membership,
    set_membership,
    set_slack_user_id,
    update_team,
    update_user,
)
from .schedules import (
    accept_swap,
    calendar_token_for,
    cancel_swap,
    check_override,
    create_override,
    create_rotation,
    decline_swap,
    delete_override,
    import_schedule,
    request_swap,
    rotate_calendar_token,
    set_participants,
    update_rotation,
    write_handoff_note,
)

__all__ = ["create_policy", "delete_policy", "import_policies", "update_policy"]
__all__ += ["create_team", "create_user", "remove_membership", "set_membership", "set_slack_user_id", "update_team",
            "update_user"]
__all__ += [
    "accept_swap",
    "calendar_token_for",
    "cancel_swap",
    "check_override",
    "create_override",
    "create_rotation",
    "decline_swap",
    "delete_override",
    "import_schedule",
    "request_swap",
    "rotate_calendar_token",
    "send_due_handoffs",
    "send_shift_reminders",
    "set_participants",
    "update_rotation",
    "write_handoff_note",
]
