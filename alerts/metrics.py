"""The alert-ingestion counters; /metrics (config.observability) serves them with the rest."""

from prometheus_client import Counter

EVENTS = Counter(
    "vigil_events_received_total",
    "Alert events received, by integration and outcome.",
    ["integration", "kind", "outcome"],
)


def count_event(integration_id: int | None, kind: str, outcome: str) -> None:
    EVENTS.labels(integration=str(integration_id) if integration_id is not None else "unknown",
                  kind=kind, outcome=outcome).inc()
