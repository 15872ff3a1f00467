"""Gunicorn's settings for Vigil in production: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Without a configuration file, gunicorn serves with ONE synchronous worker.
That worker handles one request at a time, so a burst of alerts queues
behind each database commit. These are the settings that
``tests/benchmarks/bench_ingest.py`` measures:

- ``gthread`` workers, cores + 1 of them (override with ``WEB_CONCURRENCY``);
- 4 threads each (override with ``GUNICORN_THREADS``). A thread waiting on
  PostgreSQL lets another thread of the same worker run;
- keep-alive of 65 s, longer than common load balancers' 60 s idle timeout.
  Alertmanager and PagerDuty clients reuse their connections;
- a logger that redacts webhook and heartbeat keys from access-log lines.

With more than one worker, each worker counts its own Prometheus metrics.
``/metrics`` adds them up only in prometheus_client's multiprocess mode, so:
- if ``PROMETHEUS_MULTIPROC_DIR`` is unset, it is set here to a fresh private
  directory, which is removed when gunicorn exits;
- if it is set, the directory is emptied at start, as prometheus_client
  requires;
- a worker's live gauges are dropped when it exits.

Anything else is set as usual: ``GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"``,
or flags on the command line, which win over this file.
"""

import os
import shutil
import tempfile
from pathlib import Path


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r} is not a whole number of at least 1")
    return int(raw)


worker_class = "gthread"
workers = _whole_number("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1)
threads = _whole_number("GUNICORN_THREADS", 4)
keepalive = 65
# Access-log lines with integration keys (webhook and heartbeat paths) redacted.
logger_class = "config.redact.GunicornLogger"

# Set before prometheus_client is imported, here or in a worker: it picks
# multiprocess mode when it is imported. The workers inherit the variable.
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_dir = tempfile.mkdtemp(prefix="vigil-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir

# Imported now, not in child_exit: gunicorn calls child_exit from its SIGCHLD
# handler, and a second worker exiting during a first import there re-entered
# it half done (ImportError), which killed the master before on_exit.
from prometheus_client import multiprocess  # noqa: E402 - needs the variable above


def on_starting(server):
    """Empty the metrics directory: files left by an earlier run would be counted again."""
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """Drop the live gauges of a worker that has exited; its counters stay counted."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
