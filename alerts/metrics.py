"""The alert-ingestion counters; /metrics (config.observability) serves them with the rest."""

from prometheus_client import Counter

EVENTS = Counter(
    "vigil_events_received_total",
    "Alert events received, by integration and outcome.",
    ["integration", "kind", "outcome"],
)
UNKNOWN_FIELDS = Counter(
    "vigil_ingest_unknown_fields_total",
    "Fields Vigil does not know in accepted ingest bodies (kept on the alerts, not acted on), by integration.",
    ["integration", "kind"],
)


def count_event(integration_id: int | None, kind: str, outcome: str) -> None:
    EVENTS.labels(integration=str(integration_id) if integration_id is not None else "unknown",
                  kind=kind, outcome=outcome).inc()


def count_unknown_fields(integration_id: int, kind: str, fields: int) -> None:
    if fields:
        UNKNOWN_FIELDS.labels(integration=str(integration_id), kind=kind).inc(fields)
