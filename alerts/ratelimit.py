"""Per-integration rate limit: at most ``burst`` events in each window of ``burst / rate_per_second`` seconds.

One function, ``admit``, over Django's cache API, so one implementation
serves every deployment:
- with REDIS_URL set, the cache is Redis (settings.CACHES): the count is one
  Redis key per integration and window, and ``add`` (SET NX) and ``incr``
  (INCR) are atomic on the server, so the limit is exact across every
  gunicorn worker and machine;
- without it (the embedded run), the cache is the process's own memory:
  exact within the process, and each process counts its own events.

Windows are fixed, counted from the integration's creation: the default
(60/s, burst 200) admits 200 events in each 3⅓ s. A burst at the end of one
window and another at the start of the next can admit up to twice ``burst``
in a moment; over any longer span the average stays at the rate. A changed
rate or burst applies from the next event, in every process: it starts a
window of the new length with a count of its own. The count is keyed by the
integration's key hash too, so a rotated key also starts a fresh count.

Nothing is written to the integration's (historied) row. If the cache is
unreachable the event is let through and the failure logged: losing alerts
is worse than losing the limit for a moment.
"""

import logging
import math
from datetime import datetime

from django.core.cache import cache

from .models import Integration

log = logging.getLogger(__name__)

# A window's key outlives its window by this much, so that an ``incr`` racing the
# expiry of its key (Django's Redis ``incr`` is EXISTS, then INCR) only ever
# recreates the key of a window that is over, never one still being counted.
KEY_MARGIN_SECONDS = 60


def admit(integration: Integration, now: datetime) -> int | None:
    """Count one event of ``integration`` at ``now``: None if it may go ahead, else the seconds until the
    window ends (for ``Retry-After``, at least 1)."""
    window = integration.burst / integration.rate_per_second
    elapsed = max(0.0, (now - integration.created_at).total_seconds())
    index = math.floor(elapsed / window)
    key = f"vigil:ratelimit:{integration.pk}:{integration.key_hash[:16]}:{window:.6g}:{index}"
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first event: open its count (add is atomic; one opener wins)
            cache.add(key, 0, timeout=math.ceil(window) + KEY_MARGIN_SECONDS)
            count = cache.incr(key)
    except Exception:  # noqa: BLE001 - any cache failure: fail open, see the module docstring
        log.warning("rate limit: the cache is unavailable, letting the event through", exc_info=True)
        return None
    if count <= integration.burst:
        return None
    return max(1, math.ceil((index + 1) * window - elapsed))
