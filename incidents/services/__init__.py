"""Every write to incidents goes through these functions (one module per concept)."""

from .catalog import create_service, update_service
from .checklist import auto_tick, create_checklist, tick_checklist_item
from .incident import (
    EDITABLE_FIELDS,
    IllegalTransition,
    acknowledge_incident,
    add_note,
    add_responders,
    allowed_transitions,
    assign_role,
    can_work,
    check_started_at,
    create_incident,
    post_status_update,
    remove_role,
    resolve_incident,
    transition_incident,
    update_incident,
)
from .maintenance import (
    check_window,
    create_maintenance_window,
    end_maintenance_window,
    update_maintenance_window,
)

__all__ = [
    "auto_tick",
    "create_checklist",
    "tick_checklist_item",
    "check_started_at",
    "check_window",
    "create_maintenance_window",
    "end_maintenance_window",
    "update_maintenance_window",
    "EDITABLE_FIELDS",
    "IllegalTransition",
    "acknowledge_incident",
    "add_note",
    "add_responders",
    "can_work",
    "allowed_transitions",
    "assign_role",
    "create_incident",
    "create_service",
    "post_status_update",
    "remove_role",
    "resolve_incident",
    "transition_incident",
    "update_incident",
    "update_service",
]
