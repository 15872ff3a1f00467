"""Run the same work in threads released together, to provoke races on a real database."""

import threading

from django.db import connections


def run_in_threads(n, target):
    """Call target(i) for i in range(n), all at once; return (results, errors), each indexed by i."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 — handed back to the test to assert on
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors
