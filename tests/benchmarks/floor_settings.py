"""The benchmark server's settings: Vigil's own, plus one URL measuring the cheapest durable write.

``bench_ingest.py`` serves Vigil with these so that the same gunicorn answers
``/healthz`` (the framework's ceiling), ``/v2/enqueue`` (ingestion) and
``/bench/floor/`` (one INSERT in autocommit: the floor under any synchronous
design that stores an event before answering). Never used outside the benchmark.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.floor_urls"
