"""Every write to postmortems goes through these functions (one module per concept)."""

from .action_item import (
    IllegalStatus,
    allowed_statuses,
    create_action_item,
    set_action_item_status,
    update_action_item,
)
from .factors import create_factor_tag, update_factor_tag
from .meeting import MeetingNotScheduled, MeetingOver, cancel_meeting, schedule_meeting
from .postmortem import (
    EditConflict,
    IllegalTransition,
    NotEditable,
    PostmortemConflict,
    PostmortemExists,
    add_event,
    add_factor,
    allowed_transitions,
    ensure_postmortem,
    refresh_from_incident,
    remove_factor,
    request_review,
    start_postmortem,
    sync_requirement,
    transition_postmortem,
    update_postmortem,
)

__all__ = [
    "EditConflict",
    "IllegalStatus",
    "IllegalTransition",
    "MeetingNotScheduled",
    "MeetingOver",
    "NotEditable",
    "PostmortemConflict",
    "PostmortemExists",
    "add_event",
    "add_factor",
    "allowed_statuses",
    "allowed_transitions",
    "cancel_meeting",
    "create_action_item",
    "create_factor_tag",
    "ensure_postmortem",
    "refresh_from_incident",
    "remove_factor",
    "request_review",
    "schedule_meeting",
    "set_action_item_status",
    "start_postmortem",
    "sync_requirement",
    "transition_postmortem",
    "update_action_item",
    "update_factor_tag",
    "update_postmortem",
]
