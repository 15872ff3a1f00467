from .alert import (
    Alert,
    AlertGroup,
    AlertStatus,
    HeartbeatState,
    Integration,
    IntegrationKind,
    MaintenanceWindow,
)
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
    "Alert",
    "AlertGroup",
    "AlertStatus",
    "HeartbeatState",
    "Integration",
    "IntegrationKind",
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
