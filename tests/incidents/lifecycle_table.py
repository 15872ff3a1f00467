"""The lifecycle as data, shared by the service and API tests."""

from incidents.services import transition_incident
from tests.factories import make_incident

# (from status, transition) → the status it reaches and the timestamp it stamps.
LEGAL = {
    ("triggered", "acknowledge"): ("acknowledged", "acknowledged_at"),
    ("triggered", "resolve"): ("resolved", "resolved_at"),
    ("acknowledged", "investigate"): ("investigating", "investigating_at"),
    ("acknowledged", "identify"): ("identified", "identified_at"),
    ("acknowledged", "resolve"): ("resolved", "resolved_at"),
    ("investigating", "identify"): ("identified", "identified_at"),
    ("investigating", "resolve"): ("resolved", "resolved_at"),
    ("identified", "mitigate"): ("monitoring", "mitigated_at"),
    ("identified", "resolve"): ("resolved", "resolved_at"),
    ("monitoring", "resolve"): ("resolved", "resolved_at"),
    ("resolved", "close"): ("closed", "closed_at"),
    ("resolved", "reopen"): ("triggered", None),
}
# How to reach each status from a new incident.
PATH = {
    "triggered": [],
    "acknowledged": ["acknowledge"],
    "investigating": ["acknowledge", "investigate"],
    "identified": ["acknowledge", "identify"],
    "monitoring": ["acknowledge", "identify", "mitigate"],
    "resolved": ["resolve"],
    "closed": ["resolve", "close"],
}
ALL = ["acknowledge", "investigate", "identify", "mitigate", "resolve", "close", "reopen"]


def incident_in(status, team, by):
    """A new incident of ``team`` driven through the services to ``status``.

    A SEV3: a SEV1 or SEV2 closes only once its postmortem is published (tests/postmortems/test_closing.py).
    """
    incident = make_incident(team=team, by=by, sev="SEV3")
    for name in PATH[status]:
        incident = transition_incident(incident=incident, transition=name, by=by)
    assert incident.status == status
    return incident
