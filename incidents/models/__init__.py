from .checklist import (
    ChecklistAuto,
    ChecklistItem,
    ChecklistPhase,
    ChecklistTemplate,
    ChecklistTemplateItem,
)
from .incident import (
    Category,
    Incident,
    IncidentSequence,
    IncidentStatus,
    Note,
    Responder,
    RoleAssignment,
    Source,
    StatusUpdate,
)
from .service import MaintenanceWindow, Service, Severity, SeverityPolicy

__all__ = [
    "ChecklistAuto",
    "ChecklistItem",
    "ChecklistPhase",
    "ChecklistTemplate",
    "ChecklistTemplateItem",
    "MaintenanceWindow",
    "Category",
    "Incident",
    "IncidentSequence",
    "IncidentStatus",
    "Note",
    "Responder",
    "RoleAssignment",
    "Service",
    "Severity",
    "SeverityPolicy",
    "Source",
    "StatusUpdate",
]
