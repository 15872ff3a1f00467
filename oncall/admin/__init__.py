"""Django admin for people, teams and schedules: one module per concept, as the services are.

- ``people``: users, teams and memberships.
- ``schedules``: rotations, participants, overrides, swaps, calendar tokens, hand-offs, reminders.
- ``escalation``: escalation policies (steps as JSON in the API's form).
- ``widgets``: the autocomplete both use.

What the admin writes goes through ``oncall.services`` (history, permission checks, e-mails);
what it cannot write that way is read-only here (``core.admin``).
"""

from . import escalation, people, schedules  # noqa: F401 — each registers its models
