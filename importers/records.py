"""The neutral records every source adapter produces, and the shared code reads.

An adapter (``importers.sources.<name>``) fetches a tool's API and maps it to
these; planning, applying, the report and the fidelity check only ever see
them. Ids are the source's own (strings); references between records use them.
Times are aware instants, except ``Rotation.handoff_at``: a local wall-clock
reading in the rotation's zone, as Vigil's rotations keep it.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Issue:
    """Something the source has that Vigil cannot express (or a part left out), with the reason."""

    kind: str
    source_id: str
    name: str
    reason: str


@dataclass
class Contact:
    source_id: str
    kind: str  # a ContactMethod kind: email, sms, voice
    address: str
    label: str = ""


@dataclass
class Rule:
    """Page me by this contact method ``delay_minutes`` into a page of this urgency."""

    source_id: str
    urgency: str  # high or low
    delay_minutes: int
    contact_id: str  # a Contact's source id


@dataclass
class Person:
    source_id: str
    name: str
    email: str
    timezone: str = "UTC"
    contacts: list[Contact] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


@dataclass
class Team:
    source_id: str
    name: str
    description: str = ""
    timezone: str = "UTC"
    members: list[tuple[str, str]] = field(default_factory=list)  # (person id, "member" | "lead" | "manager")


@dataclass
class Rotation:
    source_id: str
    name: str
    timezone: str
    shift_length: str  # ISO 8601: P1W, P2D, PT12H
    handoff_at: datetime  # naive local reading of a hand-off (shift of participants[0])
    participants: list[str]  # person ids, in turn order
    restrictions: list[dict] = field(default_factory=list)  # Vigil's form: [{"days", "start", "end"}]
    ends_at: datetime | None = None


@dataclass
class Override:
    source_id: str
    person_id: str
    start: datetime
    end: datetime


@dataclass
class Entry:
    """Who the source says is on call for a schedule in [start, end)."""

    start: datetime
    end: datetime
    person_id: str


@dataclass
class Schedule:
    """A source schedule: one Vigil layer of its team, made of one rotation per source layer."""

    source_id: str
    name: str
    team_id: str
    layer: str  # the Vigil layer name (a slug) its rotations share
    rotations: list[Rotation] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    rendered: list[Entry] = field(default_factory=list)


@dataclass
class Step:
    delay_minutes: int
    targets: list[tuple[str, str]]  # ("person", id) or ("schedule", id)


@dataclass
class Policy:
    source_id: str
    team_id: str
    name: str
    steps: list[Step]
    repeat: int = 0
    description: str = ""


@dataclass
class Integration:
    source_id: str
    name: str
    kind: str = "events_v2"


@dataclass
class Service:
    source_id: str
    team_id: str
    name: str
    description: str = ""
    policy_id: str | None = None
    integrations: list[Integration] = field(default_factory=list)


@dataclass
class Export:
    """Everything one source said, mapped; ``since``/``until`` bound its rendered schedule entries."""

    source: str
    since: datetime
    until: datetime
    people: list[Person] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
