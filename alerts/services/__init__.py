"""Every write of the alerts app: ingestion (events, heartbeats) and integration setup."""

from .ingest import (
    AlertEvent,
    Outcome,
    check_heartbeats,
    ingest_event,
    ingest_events,
    ping_heartbeat,
)
from .integrations import create_integration, rotate_integration_key, update_integration

__all__ = [
    "AlertEvent",
    "Outcome",
    "check_heartbeats",
    "create_integration",
    "ingest_event",
    "ingest_events",
    "ping_heartbeat",
    "rotate_integration_key",
    "update_integration",
]
