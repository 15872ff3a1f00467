"""The public status page's server-side cache: what a repeat request reads instead of the database.

Two kinds of entries in Django's cache (Redis with REDIS_URL, shared by every process; else each process's
own memory), read by ``comms.views.status``:

- a page's **version**, its ETag and Last-Modified (``queries.version``: three aggregate queries), per
  path, kept with the *generation* number it was computed under and used only while that number is
  current. Every change that can show on a status page (``watch``: status updates, incidents and their
  services, components and their services, maintenance windows, teams, severities, services) moves the
  generation when the row changes, and again when its transaction commits: a version computed in
  between, from the rows as they were before the commit, is then kept under a generation that is no
  longer current. A version also expires after ``VERSION_SECONDS``, which bounds what sends no
  signal: ``QuerySet.update`` and raw SQL, a change made by another process when each keeps its own
  memory (no Redis), and the clock (a maintenance window beginning, a new UTC day);
- a page's **rendering**, under its version's ETag and the address it was asked at (the bodies hold
  absolute links). A change to what the page shows makes a new ETag, so a rendering is never
  invalidated: it expires unread after ``PAGE_SECONDS``, which also bounds the few changes the ETag
  does not see (a team renamed, a severity reordered).

A warm request is two cache reads and no query; a change that shows nothing publicly (an internal
update, an acknowledgement) costs the next reader the version's three queries, not a render. The cache is
a shortcut: when it is unreachable, every request computes its version and renders, as if cold.
"""

import hashlib
import logging
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)

PREFIX = "comms:status:"
GENERATION_KEY = PREFIX + "generation"
VERSION_SECONDS = 5
PAGE_SECONDS = 300


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


# After a failure the pages leave the cache alone for a while: an unreachable Redis would cost every
# request its timeouts (and a log line), and a status page must answer fastest when other things fail.
RETRY_SECONDS = 10
_skip_until = 0.0


def _usable() -> bool:
    return time.monotonic() >= _skip_until


def _unreachable(exc: Exception) -> None:
    global _skip_until
    _skip_until = time.monotonic() + RETRY_SECONDS
    logger.warning("status page cache unreachable, not used for %s s: %s", RETRY_SECONDS, exc)


def _move_generation() -> None:
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # the first change since the cache was emptied; add is atomic: one opener wins
            if not cache.add(GENERATION_KEY, 1, timeout=None):
                cache.incr(GENERATION_KEY)
    except Exception as exc:  # noqa: BLE001 - versions expire within VERSION_SECONDS anyway
        logger.warning("status page cache unreachable: %s", exc)


def changed(*, using=None, **kwargs) -> None:
    """A signal receiver: something a status page may show changed. Now, and again on commit (see above)."""
    _move_generation()
    transaction.on_commit(_move_generation, using=using)


def watch() -> None:
    """Connect ``changed`` to every change a status page may show (``CommsConfig.ready``, every process)."""
    from incidents.models import Incident, MaintenanceWindow, Service, Severity, StatusUpdate
    from oncall.models import Team

    from .models import Component

    for model in (StatusUpdate, Incident, Component, MaintenanceWindow, Team, Severity, Service):
        post_save.connect(changed, sender=model, dispatch_uid=f"comms-status-save-{model._meta.label}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"comms-status-delete-{model._meta.label}")
    for through in (Component.services.through, Incident.services.through):
        m2m_changed.connect(changed, sender=through, dispatch_uid=f"comms-status-m2m-{through._meta.label}")


def version(path: str, compute):
    """``path``'s version from the cache, if it was computed under the current generation, else
    ``compute()``'s, kept for ``VERSION_SECONDS``. One cache read. ``compute`` may raise (Http404: nothing
    is kept)."""
    if not _usable():
        return compute()
    key = f"{PREFIX}version:{_digest(path)}"
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except Exception as exc:  # noqa: BLE001 - the cache is a shortcut
        _unreachable(exc)
        return compute()
    # The generation is read before the database: a version kept with generation G was computed from
    # rows at least as new as the change that made G (or G's commit makes G + 1; see the module's doc).
    generation = found.get(GENERATION_KEY, 0)
    kept = found.get(key)
    if kept is not None and kept[0] == generation:
        return kept[1]
    value = compute()
    keep(key, (generation, value), VERSION_SECONDS)
    return value


def rendering_key(address: str, etag: str) -> str:
    return f"{PREFIX}page:{_digest(f'{address}|{etag}')}"


# Renderings read lately, in this process's memory too: a rendering never changes under its key, and a
# read from Redis costs more than the rest of a warm request (a client object per call in Django's
# backend, then the body over the socket). Few: the organisation's pages and a few teams'.
_recent: dict = {}
RECENT = 16


def _remember(key: str, value) -> None:
    if len(_recent) >= RECENT:
        _recent.clear()  # simpler than an LRU, and safe with threads (one operation)
    _recent[key] = (time.monotonic() + PAGE_SECONDS, value)


def rendering(key: str):
    """The rendering kept under ``key``, or None."""
    recent = _recent.get(key)
    if recent is not None and recent[0] > time.monotonic():
        return recent[1]
    if not _usable():
        return None
    try:
        found = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - the cache is a shortcut
        _unreachable(exc)
        return None
    if found is not None:
        _remember(key, found)
    return found


def keep_rendering(key: str, value) -> None:
    _remember(key, value)
    keep(key, value, PAGE_SECONDS)


def keep(key: str, value, seconds: int = PAGE_SECONDS) -> None:
    if not _usable():
        return
    try:
        cache.set(key, value, seconds)
    except Exception as exc:  # noqa: BLE001 - the cache is a shortcut
        _unreachable(exc)
