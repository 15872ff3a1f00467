"""Signals other apps listen to (they lean on incidents, never the reverse).

All are sent by ``incidents.services`` inside the transaction that made the
change, so a receiver's own writes commit or roll back with it. Receivers
that do slow I/O should queue it with ``transaction.on_commit``.

``incident_updated`` adds ``changed``: the names of the fields that changed
(``severity``, ``title``, …). ``status_update_posted`` adds ``update``: the
``StatusUpdate`` just posted (public ones reach the status page's subscribers,
internal ones the team's subscribers and Slack channel; ``transition`` is
"status_update").

Every signal is sent with ``incident`` (the locked, updated row), ``by`` (the
acting user or None for the system), ``transition`` (its name) and ``now`` (when).
"""

from django.dispatch import Signal

incident_created = Signal()
incident_transitioned = Signal()
incident_resolved = Signal()
incident_reopened = Signal()
incident_updated = Signal()
status_update_posted = Signal()
