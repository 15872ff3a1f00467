"""On the embedded SQLite file, a long read never makes a write's COMMIT fail with "database is locked".

With SQLite's default rollback journal a COMMIT must wait for every reader to
finish; under gunicorn's threads that wait ran out and stored alerts failed
with a 500. Vigil opens its SQLite files in WAL mode, where readers and the
writer do not wait for each other.
"""

import sqlite3

import pytest
from django.conf import settings


def _connect(path, timeout):
    """A connection set up as Django sets up Vigil's own (the OPTIONS' init_command)."""
    connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    connection.executescript(settings.DATABASES["default"]["OPTIONS"].get("init_command", ""))
    return connection


@pytest.mark.skipif(not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
                    reason="the embedded SQLite settings apply only when Vigil runs on SQLite")
def test_a_write_commits_while_another_connection_is_reading(tmp_path):
    path = str(tmp_path / "vigil.sqlite3")
    writer = _connect(path, timeout=0.5)
    writer.execute("CREATE TABLE alert (id INTEGER PRIMARY KEY, summary TEXT)")
    writer.execute("INSERT INTO alert (summary) VALUES ('first')")
    reader = _connect(path, timeout=0.5)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM alert").fetchone() == (1,)  # holds its read open

    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO alert (summary) VALUES ('second')")
    writer.execute("COMMIT")  # raised "database is locked" with the rollback journal

    assert reader.execute("SELECT count(*) FROM alert").fetchone() == (1,)  # its snapshot is unchanged
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM alert").fetchone() == (2,)
