"""Per-integration token bucket: ``rate_per_second`` tokens a second, at most ``burst`` saved up.

Where the bucket lives:
- With REDIS_URL set (many web processes, many machines), in Redis: one Lua
  script refills and takes a token atomically, one round trip per event.
- Without Redis (the embedded run), in the integration's own row: one
  conditional UPDATE refills and takes a token. The database makes it atomic
  across every gunicorn worker, so the limit holds for the whole site, not
  per process (which a process-local cache would give). It runs in its own
  short autocommit statement, before the ingest transaction, so the row lock
  is held for microseconds and never while an incident is being opened.

If Redis is unreachable we let the event through (and log it): losing alerts
is worse than losing the limit for a moment.
"""

import logging
import math
import time

from django.conf import settings
from django.db import connection

from .models import Integration

log = logging.getLogger(__name__)

_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / math.max(rate, 0.001)) + 60)
return {allowed, tostring(tokens)}
"""

_redis = None
_script = None


def _redis_script():
    global _redis, _script
    if _script is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        _script = _redis.register_script(_LUA)
    return _script


def _retry_after(tokens: float, rate: float) -> int:
    return max(1, math.ceil((1 - tokens) / rate)) if rate > 0 else 60


def take(integration: Integration, *, now: float | None = None, backend: str | None = None) -> int | None:
    """Take one token. None if the event may go ahead, else the seconds to wait (for Retry-After)."""
    now = time.time() if now is None else now
    rate, burst = float(integration.rate_per_second), float(integration.burst)
    backend = backend or ("redis" if settings.REDIS_URL else "db")
    if backend == "redis":
        try:
            allowed, tokens = _redis_script()(keys=[f"vigil:ratelimit:integration:{integration.pk}"],
                                              args=[rate, burst, now])
        except Exception:  # noqa: BLE001 - any Redis failure: fail open, see module docstring
            log.warning("rate limit: Redis unavailable, letting the event through", exc_info=True)
            return None
        return None if int(allowed) else _retry_after(float(tokens), rate)

    # One conditional UPDATE refills and takes a token atomically. Raw SQL: it
    # runs for every event and compiling the ORM expression costs more than running it.
    pg = connection.vendor == "postgresql"
    least, real = ("LEAST", "double precision") if pg else ("MIN", "REAL")
    table = Integration._meta.db_table
    available = (f"{least}(CAST(burst AS {real}), COALESCE(bucket_tokens, CAST(burst AS {real}))"
                 f" + (%s - COALESCE(bucket_at, %s)) * rate_per_second)")
    sql = (f"UPDATE {table} SET bucket_tokens = {available} - 1, bucket_at = %s "  # noqa: S608 - no user input
           f"WHERE id = %s AND {available} >= 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, now, integration.pk, now, now])
        taken = cursor.rowcount
    if taken:
        return None
    row = Integration.objects.filter(pk=integration.pk).values("bucket_tokens", "bucket_at").first() or {}
    tokens = min(burst, (row.get("bucket_tokens") or 0.0) + max(0.0, now - (row.get("bucket_at") or now)) * rate)
    return _retry_after(tokens, rate)
