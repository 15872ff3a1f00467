"""What the on-call hand-off checklist needs from incidents.

``oncall`` must not import this app, so it asks through a hook; connect it in
``IncidentsConfig.ready``::

    from oncall.hooks import register_handoff_context
    from .handoff import handoff_context
    register_handoff_context(handoff_context)
"""

from datetime import timedelta

from .models import Incident, IncidentStatus, MaintenanceWindow

MAX_LINES = 20


def handoff_context(*, team, now) -> dict[str, list[str]]:
    """The team's open incidents, investigations and scheduled maintenance as short lines."""
    incidents = list(Incident.objects.open().for_team(team).select_related("severity").order_by("-created_at")[:MAX_LINES])
    maintenance = (MaintenanceWindow.objects.filter(service__team=team, ends_at__gt=now,
                                                    starts_at__lt=now + timedelta(days=7))
                   .select_related("service").order_by("starts_at")[:MAX_LINES])
    investigating = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
    return {
        "open_incidents": [f"{i.number} {i.severity.name} {i.title} ({i.status})" for i in incidents],
        "investigations": [f"{i.number} {i.title} ({i.status})" for i in incidents if i.status in investigating],
        "maintenance": [
            f"{m.service.name}: {m.starts_at:%Y-%m-%d %H:%M} → {m.ends_at:%Y-%m-%d %H:%M} UTC {m.reason}".rstrip()
            for m in maintenance
        ],
    }
