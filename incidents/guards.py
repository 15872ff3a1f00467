"""Checks other apps add before an incident may close.

``incidents`` must not import the apps that lean on it, so an app with a say
on closing (postmortems: a required postmortem is published first) registers
a function in its ``AppConfig.ready``::

    register_close_guard(unpublished_postmortem, code="postmortem_required")
    # fn(incident) -> str | None: why it may not close yet (a sentence saying what to do), or None

``transition_incident`` asks every guard, in registration order, once the
incident row is locked and closing is legal from its status; the first
refusal stops the close with ``ClosingRefused`` (the API answers 409 with
its ``code``; pages show its message). Staff may close anyway by giving an
override reason, which the status change records on the timeline.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError

from .models import Incident

CloseGuard = Callable[[Incident], str | None]
_guards: list[tuple[CloseGuard, str]] = []


class ClosingRefused(ValidationError):
    """A registered guard refuses to let the incident close; ``code`` says which (e.g. postmortem_required)."""

    def __init__(self, message: str, *, code: str, incident: Incident):
        super().__init__(message, code=code)
        self.incident = incident


def register_close_guard(guard: CloseGuard, *, code: str) -> None:
    """Ask ``guard`` before any incident closes (registering the same function twice adds it once)."""
    if all(known is not guard for known, _ in _guards):
        _guards.append((guard, code))


def closing_refusal(incident: Incident) -> ClosingRefused | None:
    """The first guard's refusal to let ``incident`` close, or None if every guard lets it."""
    for guard, code in _guards:
        reason = guard(incident)
        if reason:
            return ClosingRefused(reason, code=code, incident=incident)
    return None
