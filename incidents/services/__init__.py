"""Every write to incidents goes through these functions (one module per concept)."""

from .incident import (
    EDITABLE_FIELDS,
    IllegalTransition,
    acknowledge_incident,
    add_note,
    allowed_transitions,
    assign_role,
    create_incident,
    post_status_update,
    remove_role,
    resolve_incident,
    transition_incident,
    update_incident,
)

__all__ = [
    "EDITABLE_FIELDS",
    "IllegalTransition",
    "acknowledge_incident",
    "add_note",
    "allowed_transitions",
    "assign_role",
    "create_incident",
    "post_status_update",
    "remove_role",
    "resolve_incident",
    "transition_incident",
    "update_incident",
]
