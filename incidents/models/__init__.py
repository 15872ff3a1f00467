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
from .service import Service, Severity

__all__ = [
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
