"""Every write to incidents goes through these functions (one module per concept)."""

from .alerts import (
    AlertEvent,
    Outcome,
    check_heartbeats,
    ingest_event,
    ingest_events,
    ingest_leased_trigger,
    ping_heartbeat,
)
from .catalog import create_service, update_service
from .incident import (
    EDITABLE_FIELDS,
    IllegalTransition,
    acknowledge_incident,
    add_note,
    allowed_transitions,
    assign_role,
    check_started_at,
    create_incident,
    post_status_update,
    remove_role,
    resolve_incident,
    transition_incident,
    update_incident,
)
from .integrations import (
    create_integration,
    create_maintenance_window,
    end_maintenance_window,
    rotate_integration_key,
    update_integration,
)

__all__ = [
    "AlertEvent",
    "Outcome",
    "check_heartbeats",
    "check_started_at",
    "create_integration",
    "create_maintenance_window",
    "end_maintenance_window",
    "ingest_event",
    "ingest_events",
    "ingest_leased_trigger",
    "ping_heartbeat",
    "rotate_integration_key",
    "update_integration",
    "EDITABLE_FIELDS",
    "IllegalTransition",
    "acknowledge_incident",
    "add_note",
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
