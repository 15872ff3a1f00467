from .incident import (
    Category,
    Incident,
    IncidentSequence,
    IncidentStatus,
    Note,
    RoleAssignment,
    Source,
    StatusUpdate,
)
from .service import MaintenanceWindow, Service, Severity

__all__ = [
    "MaintenanceWindow",
    "Category",
    "Incident",
    "IncidentSequence",
    "IncidentStatus",
    "Note",
    "RoleAssignment",
    "Service",
    "Severity",
    "Source",
    "StatusUpdate",
]
