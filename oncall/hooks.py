"""Hooks through which higher apps feed on-call features, so ``oncall`` never imports them.

The hand-off checklist needs the team's open incidents and recent alerts,
which live in ``incidents``. That app registers a provider in its
``AppConfig.ready``::

    from oncall.hooks import register_handoff_context
    from incidents.handoff import handoff_context
    register_handoff_context(handoff_context)

A provider is called as ``provider(team=team, now=now)`` and returns a dict
mapping checklist keys (see ``CHECKLIST``) to lists of short lines, e.g.
``{"open_incidents": ["INC-2026-0042 SEV2 Checkout is failing (investigating)"]}``.
Keys it does not know it leaves out; several providers' lines are joined.
"""

from collections.abc import Callable
from datetime import datetime

HandoffContextProvider = Callable[..., dict[str, list[str]]]

# The hand-off checklist, in the order it is shown: (key, what to do).
CHECKLIST: list[tuple[str, str]] = [
    ("open_incidents", "Review open incidents"),
    ("recent_alerts", "Review alerts of the last 24 hours"),
    ("investigations", "Check ongoing investigations"),
    ("contact_info", "Verify your contact information"),
    ("maintenance", "Review scheduled maintenance"),
    ("known_issues", "Brief on known issues"),
]

_handoff_providers: list[HandoffContextProvider] = []


def register_handoff_context(provider: HandoffContextProvider) -> None:
    """Add a provider; registering the same one twice has no effect (ready() may run twice in tests)."""
    if provider not in _handoff_providers:
        _handoff_providers.append(provider)


def handoff_context(*, team, now: datetime) -> dict[str, list[str]]:
    """Every provider's lines for ``team`` at ``now``, merged per checklist key."""
    merged: dict[str, list[str]] = {key: [] for key, _ in CHECKLIST}
    for provider in _handoff_providers:
        for key, lines in (provider(team=team, now=now) or {}).items():
            merged.setdefault(key, []).extend(lines)
    return merged
