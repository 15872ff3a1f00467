"""PostgreSQL connection set-up that Django's own backend leaves slow.

Django (5.2, ticket #36960) registers, on every psycopg connection, a
``timestamptz`` loader derived from psycopg's pure-Python loader, so even with
psycopg's C extension installed every timestamp read is parsed in Python:
about three quarters of the time of reading 2,000 on-call participant rows.
This registers, in its place, a loader with the same contract (Django reads
``timezone`` off it, and results are relabelled to that zone exactly as
Django's are) whose parsing is psycopg's C loader. Without the C extension it
does nothing.
"""

from functools import lru_cache

from django.db.backends.signals import connection_created


def install() -> None:
    connection_created.connect(_fast_timestamps, dispatch_uid="vigil-fast-timestamptz")


def _fast_timestamps(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql":
        return
    from psycopg import adapters
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader

    fast = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
    if fast is None or fast is TimestamptzLoader:  # no C extension: nothing to gain
        return
    connection.connection.adapters.register_loader("timestamptz", _loader(connection.timezone, fast))


@lru_cache
def _loader(zone, fast):
    from psycopg.types.datetime import TimestamptzLoader

    class FastTzLoader(TimestamptzLoader):
        timezone = zone  # what Django's create_cursor compares with its own

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._fast_load = fast(oid, context).load

        def load(self, data):
            return self._fast_load(data).replace(tzinfo=self.timezone)

    return FastTzLoader
