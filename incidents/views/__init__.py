"""Browser pages of the incident core. Thin: forms validate, services write, queries read."""

from .incident import (
    incident_checklist_tick,
    incident_create,
    incident_detail,
    incident_edit,
    incident_live,
    incident_note,
    incident_resolve,
    incident_role_assign,
    incident_role_remove,
    incident_transition,
    incident_update,
)
from .lists import dashboard, incident_list, service_detail, service_list
from .maintenance import service_maintenance

__all__ = [
    "dashboard",
    "incident_checklist_tick",
    "incident_create",
    "incident_detail",
    "incident_resolve",
    "incident_edit",
    "incident_list",
    "incident_live",
    "incident_note",
    "incident_role_assign",
    "incident_role_remove",
    "incident_transition",
    "incident_update",
    "service_detail",
    "service_list",
    "service_maintenance",
]
