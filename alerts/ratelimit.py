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

Leases (PostgreSQL, with the bucket in the database or in Redis): taking one
token per event is a round trip per event. An endpoint that can use them
(Events v2, the generic webhook) asks ``admit`` for a lease: the bucket then gives up to a tenth of a second's
worth of tokens (at most 50, at most the burst, at least 1), the event spends
one and this process keeps the rest for one second (``spend_lease``). The
site-wide limit still holds exactly — a token is never spent twice, only a
little later or, if the lease expires, not at all — and the next events of
the key need no bucket statement: ``services.alerts.ingest_leased_trigger``
re-checks the key, the integration and the maintenance window inside the
statement that stores the alert. Changing or rotating an integration drops
this process's leases at once; other processes' expire within a second.

If Redis is unreachable we let the event through (and log it): losing alerts
is worse than losing the limit for a moment.
"""

import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.db import connection

from .models import Integration
from .queries import (
    FIND_COLUMNS,
    active_window_sql,
    integration_from_row,
    key_digest,
    lookup_integration,
    prepared_cursor,
)

log = logging.getLogger(__name__)

_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local want = tonumber(ARGV[4]) or 1
local taken = 0
if tokens >= 1 then taken = math.min(want, math.floor(tokens)); tokens = tokens - taken end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / math.max(rate, 0.001)) + 60)
return {taken, tostring(tokens)}
"""

_redis = None
_script = None

LEASE_MAX = 50  # tokens one admission may take for this process
LEASE_SECONDS = 1.0  # unspent leased tokens are dropped after this


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
    return _take(integration, 1, now=now, backend=backend)[1]


def lease_size(integration: Integration) -> int:
    """Tokens one admission takes for a lease: a tenth of a second's worth, at most the burst and LEASE_MAX.

    ``_admit_sql`` computes the same in SQL from the integration's row.
    """
    return min(LEASE_MAX, max(1, min(integration.rate_per_second // 10, integration.burst)))


def _take(integration: Integration, want: int, *, now: float | None = None,
          backend: str | None = None) -> tuple[int, int | None]:
    """Take up to ``want`` tokens (the whole ones left if fewer): (taken, None), or (0, seconds to wait).

    The database bucket outside ``admit`` takes one at a time (``want`` must be 1).
    """
    now = time.time() if now is None else now
    rate, burst = float(integration.rate_per_second), float(integration.burst)
    backend = backend or ("redis" if settings.REDIS_URL else "db")
    if backend == "redis":
        try:
            taken, tokens = _redis_script()(keys=[f"vigil:ratelimit:integration:{integration.pk}"],
                                            args=[rate, burst, now, want])
        except Exception:  # noqa: BLE001 - any Redis failure: fail open, see module docstring
            log.warning("rate limit: Redis unavailable, letting the event through", exc_info=True)
            return 1, None
        return (int(taken), None) if int(taken) else (0, _retry_after(float(tokens), rate))
    if want != 1:
        raise ValueError("the database bucket takes one token at a time outside admit")

    # One conditional UPDATE refills and takes a token atomically. Raw SQL: it
    # runs for every event and compiling the ORM expression costs more than running it.
    available = _available_sql()
    sql = (f"UPDATE {Integration._meta.db_table} SET bucket_tokens = {available} - 1, "  # noqa: S608 - no user input
           f"bucket_at = %s WHERE id = %s AND {available} >= 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, now, integration.pk, now, now])
        taken = cursor.rowcount
    if taken:
        return 1, None
    row = Integration.objects.filter(pk=integration.pk).values("bucket_tokens", "bucket_at").first() or {}
    return 0, _refused(integration, row.get("bucket_tokens"), row.get("bucket_at"), now)


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


# --- leases ------------------------------------------------------------------------

_leases: dict[str, list] = {}  # key digest -> [integration id, tokens left, expires (monotonic)]
_leases_lock = threading.Lock()


def spend_lease(key: str) -> tuple[int, str] | None:
    """Spend one token of this process's lease for ``key``: (integration id, key digest), or None if none is left."""
    digest = key_digest(key)
    if digest is None:
        return None
    with _leases_lock:
        lease = _leases.get(digest)
        if lease is None or lease[1] < 1 or lease[2] <= time.monotonic():
            return None
        lease[1] -= 1
        return lease[0], digest


def _keep_lease(digest: str, integration_id: int, tokens: int) -> None:
    with _leases_lock:
        if tokens > 0:
            _leases[digest] = [integration_id, tokens, time.monotonic() + LEASE_SECONDS]
        else:
            _leases.pop(digest, None)


def forget_leases(integration_id: int) -> None:
    """Drop this process's leased tokens of an integration (its limit, state or key changed)."""
    with _leases_lock:
        for digest in [d for d, lease in _leases.items() if lease[0] == integration_id]:
            del _leases[digest]


@cache
def _admit_sql(*, asynchronous: bool) -> str:
    """``admit``'s statement on PostgreSQL, built once per process (it runs for every event)."""
    table = Integration._meta.db_table
    # How many tokens to take: up to ``want``, and for a lease a tenth of a second's
    # worth (``lease_size``, computed here from the row); all of them or, if fewer
    # are left, the whole ones left.
    size = "LEAST(%(want)s::integer, GREATEST(1, LEAST(FLOOR(rate_per_second / 10.0)::integer, burst)))"
    available = _available_sql().replace("%s", "%(stamp)s")
    taking = f"LEAST({size}, FLOOR({available})::integer)"
    return (
        f"WITH found AS (SELECT {', '.join(FIND_COLUMNS)}, bucket_tokens, bucket_at FROM {table} "  # noqa: S608
        "WHERE key_hash = %(digest)s), "
        f"taken AS (UPDATE {table} SET bucket_lease = {taking}, bucket_tokens = {available} - {taking}, "
        "bucket_at = %(stamp)s WHERE id = (SELECT id FROM found WHERE enabled AND kind = %(kind)s) "
        f"AND %(want)s::integer > 0 AND {available} >= 1 RETURNING bucket_lease) "
        "SELECT found.*, (SELECT bucket_lease FROM taken), "
        f"({active_window_sql('found.service_id').replace('%s', '%(at)s')}){_ASYNC if asynchronous else ''} "
        "FROM found"
    )


def admit(key: str, *, kind: str, now: datetime, backend: str | None = None, tokens: str = "one") -> Admission:
    """Find the integration of ``key``, take one of its tokens, and find its service's active maintenance window.

    A token is taken only from an enabled integration of ``kind`` (the
    endpoint refuses the others with 403 before it would limit them, and
    they must not drain the bucket). On PostgreSQL with the database bucket
    this is ONE statement: a SELECT by key hash, the conditional bucket
    UPDATE of ``take`` (same arithmetic, same atomicity: PostgreSQL
    re-checks the condition on the locked row) as a data-modifying CTE, and
    the window as a scalar subquery. Elsewhere (SQLite, Redis): the lookup
    with the window is one SELECT, then ``take``.

    ``tokens``: "one" for this event; "lease" for this event and, on
    PostgreSQL (bucket in the row or in Redis), a lease for the next ones
    (see ``spend_lease``); "none" when the event already spent a leased token.
    """
    backend = backend or ("redis" if settings.REDIS_URL else "db")
    if backend != "db" or connection.vendor != "postgresql":
        integration, window_id = lookup_integration(key, window_at=now)
        if integration is None or not integration.enabled or integration.kind != kind or tokens == "none":
            return Admission(integration, None, window_id)
        # Leases only where a leased event can be stored in one statement: PostgreSQL (with Redis here).
        leasing = tokens == "lease" and backend == "redis" and connection.vendor == "postgresql"
        taken, retry = _take(integration, lease_size(integration) if leasing else 1, now=now.timestamp(),
                             backend=backend)
        if leasing and taken:
            _keep_lease(key_digest(key), integration.pk, taken - 1)
        return Admission(integration, retry, window_id)

    digest = key_digest(key)
    if digest is None:
        return Admission(None)
    at, stamp = connection.ops.adapt_datetimefield_value(now), now.timestamp()
    want = {"one": 1, "lease": LEASE_MAX, "none": 0}[tokens]
    # Never make a caller's transaction asynchronous.
    with prepared_cursor() as cursor:
        cursor.execute(_admit_sql(asynchronous=not connection.in_atomic_block),
                       {"digest": digest, "want": want, "stamp": stamp, "kind": kind, "at": at})
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[FIND_COLUMNS.index("key_hash")], digest):
        return Admission(None)
    integration = integration_from_row(row)
    bucket_tokens, bucket_at, taken, window_id = row[len(FIND_COLUMNS):len(FIND_COLUMNS) + 4]
    if taken and tokens == "lease":
        _keep_lease(digest, integration.pk, taken - 1)
    refused = not taken and want and integration.enabled and integration.kind == kind
    return Admission(integration, _refused(integration, bucket_tokens, bucket_at, stamp) if refused else None,
                     window_id)
