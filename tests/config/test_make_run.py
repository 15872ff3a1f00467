"""`make run`, the README's first command: web, Celery worker and beat start with demo data, and stop together.

Run as a newcomer would, on a temporary SQLite file, with the broker the
suite runs with: Redis when ``REDIS_URL`` is set (CI's PostgreSQL + Redis
run), else the embedded one that needs no server, in a temporary folder. Beat sends
the heartbeat sweep (every 2 s here) and the worker runs it, so the test waits for
the worker to report that task done: the three processes really talk to each
other. Then Ctrl-C (SIGINT to the process group, as a terminal sends it) must
stop all of them at once, with no signal storm.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.net import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.process,
              pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")]


def _account(log: Path, group: int):
    """What make run's processes say of themselves, for a failure message: those still alive, then the output."""
    def read() -> str:
        alive = subprocess.run(["ps", "-o", "pid,stat,args", "-g", str(group)],  # noqa: S603, S607
                               capture_output=True, text=True).stdout
        return f"processes still there:\n{alive}\noutput:\n{log.read_text(errors='replace')[-2500:]}"
    return read


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _restore_sigint():
    # A shell started in the background ignores SIGINT, and children inherit that: undo it,
    # so the processes get Ctrl-C as they would from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_make_run_starts_web_worker_and_beat_with_demo_data_and_ctrl_c_stops_them(tmp_path):
    port, database, log = free_port(), tmp_path / "vigil.sqlite3", tmp_path / "run.log"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    redis = os.environ.get("REDIS_URL", "")
    # The heartbeat sweep every 2 s instead of 30, so the worker reports it soon.
    env.update(DATABASE_URL=f"sqlite:///{database}", CELERY_BROKER_DIR=str(tmp_path / "broker"), REDIS_URL=redis,
               HEARTBEAT_CHECK_SECONDS="2")
    with log.open("w") as out:
        make = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=ROOT, env=env, stdout=out,  # noqa: S603, S607
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_restore_sigint)  # noqa: PLW1509
    try:
        account = _account(log, make.pid)
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), "the web server", 180, account)
        with sqlite3.connect(database) as db:
            incidents, teams = (db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                                for table in ("incidents_incident", "oncall_team"))
        assert incidents > 0 and teams > 0  # the demo data is there
        assert _answers(f"http://127.0.0.1:{port}/accounts/login/")
        wait_until(lambda: "Task alerts.tasks.check_heartbeats[" in log.read_text(errors="replace")
                   and " succeeded in " in log.read_text(errors="replace"),
                   "the worker to run the heartbeat sweep beat sent", 90, account)
    finally:
        os.killpg(make.pid, signal.SIGINT)
        try:
            # make leads the group; reaped (poll), it no longer counts as alive once it has exited.
            wait_until(lambda: make.poll() is not None and not _group_alive(make.pid),
                       "web, worker and beat to stop after Ctrl-C", 20, _account(log, make.pid))
        finally:
            if _group_alive(make.pid):
                os.killpg(make.pid, signal.SIGKILL)
            make.wait(timeout=10)
    output = log.read_text(errors="replace")
    assert f"transport:   {redis.split('://')[0] if redis else 'filesystem'}://" in output  # the broker meant
    assert "Unrecoverable error" not in output
    assert output.count("Warm shutdown") <= 2  # once per Ctrl-C, not a storm of re-sent signals
