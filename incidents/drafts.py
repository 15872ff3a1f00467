"""Drafts of an incident's updates, written by the app that owns the wording (``comms``' templates).

``incidents`` must not import ``comms``, so comms registers its drafter in
its ``AppConfig.ready``::

    register_drafter(kinds=[("update", "Status update"), …], draft=fn)
    # fn(kind, incident, *, now, next_update_at) -> (subject, body)

The incident page's update form offers the kinds ("Start from a template") and
fills the text box with the draft; the resolve step prefills its resolution
update; the API drafts a body from ``template`` when none is given. With no
drafter registered, there are no templates to offer and the texts start empty.
"""

from collections.abc import Callable
from datetime import datetime

from .models import Incident

Drafter = Callable[..., tuple[str, str]]

_kinds: list[tuple[str, str]] = []
_drafter: list[Drafter] = []


def register_drafter(*, kinds: list[tuple[str, str]], draft: Drafter) -> None:
    """Offer ``kinds`` (value, label) and draft them with ``draft``; registering again replaces it."""
    _kinds[:] = list(kinds)
    _drafter[:] = [draft]


def draft_kinds() -> list[tuple[str, str]]:
    return list(_kinds)


def draft(kind: str, incident: Incident, *, now: datetime | None = None,
          next_update_at: datetime | None = None) -> tuple[str, str] | None:
    """(subject, body) of ``kind`` for ``incident``, or None when no drafter knows ``kind``."""
    if not _drafter or kind not in dict(_kinds):
        return None
    return _drafter[0](kind, incident, now=now, next_update_at=next_update_at)


# Which template fits an update of each state: the status page's own wording when it is public.
PUBLIC_KIND_FOR_STATE = {"investigating": "status_investigating", "identified": "status_identified",
                         "monitoring": "status_monitoring", "resolved": "status_resolved"}
INTERNAL_KIND_FOR_STATE = {"investigating": "update", "identified": "update", "monitoring": "update",
                           "resolved": "resolution"}


def kind_for(state: str, *, public: bool) -> str:
    return (PUBLIC_KIND_FOR_STATE if public else INTERNAL_KIND_FOR_STATE).get(state, "update")
