"""What the on-call hand-off checklist needs from alerts: the team's alerts of the last 24 hours.

Registered with ``oncall.hooks.register_handoff_context`` in ``AlertsConfig.ready``.
"""

from datetime import timedelta

from .models import Alert

RECENT_ALERTS = timedelta(hours=24)
MAX_LINES = 20


def handoff_context(*, team, now) -> dict[str, list[str]]:
    alerts = (Alert.objects.filter(integration__service__team=team, received_at__gt=now - RECENT_ALERTS,
                                   received_at__lte=now)
              .select_related("integration__service").order_by("-received_at")[:MAX_LINES])
    return {
        "recent_alerts": [
            f"{a.received_at:%Y-%m-%d %H:%M} UTC {a.severity} {a.integration.service.name}: {a.summary} ({a.status})"
            for a in alerts
        ],
    }
