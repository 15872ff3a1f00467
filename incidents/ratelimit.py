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
  On PostgreSQL ``admit`` folds the key lookup, this UPDATE and the
  maintenance-window check into that one statement (one round trip).

If Redis is unreachable we let the event through (and log it): losing alerts
is worse than losing the limit for a moment.
"""

import hmac
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection

from .alert_queries import (
    FIND_COLUMNS,
    active_window_sql,
    integration_from_row,
    key_digest,
    lookup_integration,
    prepared_cursor,
)
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
    available = _available_sql()
    sql = (f"UPDATE {Integration._meta.db_table} SET bucket_tokens = {available} - 1, "  # noqa: S608 - no user input
           f"bucket_at = %s WHERE id = %s AND {available} >= 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, now, integration.pk, now, now])
        taken = cursor.rowcount
    if taken:
        return None
    row = Integration.objects.filter(pk=integration.pk).values("bucket_tokens", "bucket_at").first() or {}
    return _refused(integration, row.get("bucket_tokens"), row.get("bucket_at"), now)


def _available_sql() -> str:
    """Tokens in the bucket of the row being updated at time %s (given twice), refilled up to the burst."""
    least, real = ("LEAST", "double precision") if connection.vendor == "postgresql" else ("MIN", "REAL")
    return (f"{least}(CAST(burst AS {real}), COALESCE(bucket_tokens, CAST(burst AS {real}))"
            f" + (%s - COALESCE(bucket_at, %s)) * rate_per_second)")


def _refused(integration: Integration, tokens: float | None, at: float | None, now: float) -> int:
    rate, burst = float(integration.rate_per_second), float(integration.burst)
    tokens = min(burst, (tokens or 0.0) + max(0.0, now - (at or now)) * rate)
    return _retry_after(tokens, rate)


# The bucket is the only thing admit writes, and losing its last few updates in
# a crash costs nothing (the Redis bucket is not durable either). So when admit
# runs as its own autocommit transaction it commits asynchronously (SET LOCAL
# synchronous_commit = off, as set_config): the row lock on the integration —
# which every event of that integration takes — is released without waiting
# for the WAL flush (about 1 ms here), else the flush would serialise the
# integration's events. Stored alerts and incidents stay synchronous.
_ASYNC = ", set_config('synchronous_commit', 'off', true)"


@dataclass(frozen=True)
class Admission:
    """What the ingest endpoints learn before parsing an event, in one statement where possible."""

    integration: Integration | None  # None: no integration has this key
    retry_after: int | None = None  # seconds, when the bucket said no
    window_id: int | None = None  # the service's maintenance window active at ``now``


def admit(key: str, *, kind: str, now: datetime, backend: str | None = None) -> Admission:
    """Find the integration of ``key``, take one of its tokens, and find its service's active maintenance window.

    A token is taken only from an enabled integration of ``kind`` (the
    endpoint refuses the others with 403 before it would limit them, and
    they must not drain the bucket). On PostgreSQL with the database bucket
    this is ONE statement: a SELECT by key hash, the conditional bucket
    UPDATE of ``take`` (same arithmetic, same atomicity: PostgreSQL
    re-checks the condition on the locked row) as a data-modifying CTE, and
    the window as a scalar subquery. Elsewhere (SQLite, Redis): the lookup
    with the window is one SELECT, then ``take``.
    """
    backend = backend or ("redis" if settings.REDIS_URL else "db")
    if backend != "db" or connection.vendor != "postgresql":
        integration, window_id = lookup_integration(key, window_at=now)
        if integration is None or not integration.enabled or integration.kind != kind:
            return Admission(integration, None, window_id)
        return Admission(integration, take(integration, now=now.timestamp(), backend=backend), window_id)

    digest = key_digest(key)
    if digest is None:
        return Admission(None)
    table, at, stamp = Integration._meta.db_table, connection.ops.adapt_datetimefield_value(now), now.timestamp()
    sql = (
        f"WITH found AS (SELECT {', '.join(FIND_COLUMNS)}, bucket_tokens, bucket_at FROM {table} "  # noqa: S608
        "WHERE key_hash = %s), "
        f"taken AS (UPDATE {table} SET bucket_tokens = {_available_sql()} - 1, bucket_at = %s "
        f"WHERE id = (SELECT id FROM found WHERE enabled AND kind = %s) AND {_available_sql()} >= 1 RETURNING id) "
        f"SELECT found.*, EXISTS (SELECT 1 FROM taken), ({active_window_sql('found.service_id')}){_ASYNC} FROM found"
    )
    if connection.in_atomic_block:
        sql = sql.replace(_ASYNC, "")  # never make a caller's transaction asynchronous
    with prepared_cursor() as cursor:
        cursor.execute(sql, [digest, stamp, stamp, stamp, kind, stamp, stamp, at, at])
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[FIND_COLUMNS.index("key_hash")], digest):
        return Admission(None)
    integration = integration_from_row(row)
    tokens, bucket_at, taken, window_id = row[len(FIND_COLUMNS):len(FIND_COLUMNS) + 4]
    refused = not taken and integration.enabled and integration.kind == kind
    return Admission(integration, _refused(integration, tokens, bucket_at, stamp) if refused else None, window_id)
