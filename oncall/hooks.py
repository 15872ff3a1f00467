"""Hooks through which higher apps feed on-call features, so ``oncall`` never imports them.

E-mails to people (hand-offs, shift reminders, swaps) go through
``send_to_person``. ``paging`` registers its delivery in its ``AppConfig.ready``
(``register_mailer(paging.services.notify.email_person)``): each e-mail is
then a ``Notification`` row written in the caller's transaction, delivered
after it commits with retries, shown in the person's notifications. Without a
registered mailer, Django's ``send_mail`` sends it once the transaction commits.

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

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

HandoffContextProvider = Callable[..., dict[str, list[str]]]
# Called as mailer(user=, kind=, subject=, body=, now=): tells one person by e-mail.
Mailer = Callable[..., object]

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


_mailers: list[Mailer] = []


def register_mailer(mailer: Mailer) -> None:
    """Send ``send_to_person``'s e-mails through ``mailer``; the last one registered wins."""
    _mailers[:] = [mailer]


def send_to_person(*, user, kind: str, subject: str, body: str, now: datetime | None = None) -> None:
    """E-mail ``user`` (``kind``: "handoff", "reminder" or "swap"), once the caller's transaction commits.

    Through the registered mailer when there is one, else ``send_mail``. Nobody
    without an e-mail address is mailed. Call it inside the transaction whose
    change the e-mail announces: a rollback then tells nobody anything.
    """
    if not user.email:
        return
    if _mailers:
        _mailers[0](user=user, kind=kind, subject=subject, body=body, now=now)
        return
    address = user.email
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address]))
