"""Status page benchmark: GET /status/ warm (from the cache) and cold, against gunicorn as deployed.

    .venv/bin/python tests/benchmarks/bench_status.py [--requests 10000] [--connections 8]
                                                      [--redis redis://127.0.0.1:6379/12] [--profile]

1. a fresh PostgreSQL database ``vigil_bench_status`` on DATABASE_URL's server, migrated, static files
   collected (DEBUG=0 needs them), seeded through Vigil's services as people would: 3 teams, 60
   services, 20 components (3 services each), 300 resolved public incidents over the last 90 days
   (public and internal updates, a public resolution), 3 open public incidents (SEV1–SEV3) with
   updates, a maintenance window under way and one tomorrow (``--reuse-database``: as the last run left it);
2. Redis: ``--redis URL`` (flushed first: give it a database of its own), or else a private
   ``redis-server`` on a free port;
3. gunicorn with the README's production command (``-c config/gunicorn.conf.py config.wsgi``: gthread,
   3 workers × 4 threads on 2 cores), DEBUG=0, REDIS_URL: the status page's server cache in Redis;
4. with bench_ingest's client (one process driving keep-alive connections over raw sockets, requests
   pre-built: it costs the server's cores little), measures:
   - the ceiling: GET /healthz through the same middleware;
   - **warm**: GET /status/, every request after the first served from the cache;
   - revalidation: GET /status/ with the page's ETag in If-None-Match (a CDN or browser checking): 304;
   - **cold, one at a time**: before each request a change the page shows (a component's description
     edited through ``comms.services``, not timed), so each request is the first reader after a
     change: it computes the version and renders;
   - **cold under load**: a second gunicorn, the same but with the status page's server cache turned
     off (a WSGI module in a scratch directory that patches ``comms.status_cache``): every request
     renders;
   - a proposal beside it: the warm load again with Django's Redis backend keeping its redis-py client
     object instead of building one a call (``REUSED_CLIENT_WSGI``);
   and for each, requests a second, p50 and p99 latency and the CPU each side spent per request
   (gunicorn, PostgreSQL, Redis, the client) from /proc.
5. ``--profile``: a warm and a cold GET /status/ through Django's handler in this process (cProfile,
   DEBUG=0, the same database and Redis), 50 of each: where a request's time goes.

Target (issue #15): ≥ 500 requests/s for GET /status/ with a warm cache. Everything (gunicorn,
PostgreSQL, Redis, the client) shares the machine's cores, and other work on it skews every figure:
read the rates beside the same run's /healthz (the load average is printed).
"""

import argparse
import cProfile
import http.client
import io
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_ingest import _cpu_line, free_port, load, wait_for  # noqa: E402

PYTHON = sys.executable
DB_NAME = "vigil_bench_status"
TARGET = 500
# The cold server: Vigil's WSGI application with the status page's server cache turned off, so that every
# request computes its version and renders (written to a scratch directory, served by the same gunicorn).
COLD_WSGI = """from config.wsgi import application  # noqa: F401
from comms import status_cache

status_cache.version = lambda path, compute: compute()
status_cache.rendering = lambda key: None
status_cache.keep_rendering = lambda key, value: None
"""
# A proposal measured beside the production code: Django's Redis backend builds a new redis-py client object
# for every cache call (``RedisCacheClient.get_client``), which redis-py 8 makes costly; this WSGI module
# keeps one client per connection pool (redis-py clients are safe to share between threads).
REUSED_CLIENT_WSGI = """from django.core.cache.backends import redis as backend

from config.wsgi import application  # noqa: F401


def get_client(self, key=None, *, write=False):
    index = self._get_connection_pool_index(write)
    clients = self.__dict__.setdefault("_reused_clients", {})
    if index not in clients:
        clients[index] = self._client(connection_pool=self._get_connection_pool(write))
    return clients[index]


backend.RedisCacheClient.get_client = get_client
"""


def database_urls() -> tuple[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path=f"/{DB_NAME}"))


def fresh_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def server_env(database_url: str, redis_url: str, static_root: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "DJANGO_SETTINGS_MODULE")}
    env.update({
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "DEBUG": "0", "STATIC_ROOT": static_root,
        "SECRET_KEY": "benchmark-only-secret-key-not-for-production-0123456789abcdef",
        "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600", "CELERY_BROKER_DIR": str(Path(static_root).parent / "broker"),
    })
    return env


# --- seeding ------------------------------------------------------------------------------------------

def seed(rng: random.Random) -> dict:
    """Teams, services, components, a history of public incidents: through the services, as people would."""
    from django.utils import timezone

    from comms.services import create_component
    from incidents.models import Severity
    from incidents.services import (
        create_incident,
        create_maintenance_window,
        post_status_update,
        resolve_incident,
    )
    from incidents.services.catalog import create_service
    from oncall.models import Membership, Team, User

    now = timezone.now()
    severities = {s.rank: s for s in Severity.objects.all()}
    teams = []
    for slug, name in (("payments", "Payments"), ("search", "Search"), ("platform", "Platform")):
        team = Team.objects.create(slug=slug, name=name, timezone="Europe/Berlin")
        lead = User.objects.create_user(username=f"{slug}-lead", email=f"{slug}-lead@example.com")
        Membership.objects.create(team=team, user=lead, role=Membership.Role.LEAD)
        services = [create_service(slug=f"{slug}-{i}", name=f"{name} service {i}", team=team, by=None)
                    for i in range(20)]
        teams.append((team, lead, services))
    components = 0
    for t, (team, _, services) in enumerate(teams):
        for i in range(7 if t < 2 else 6):
            create_component(team=team, name=f"{team.name} component {i}", by=None, position=i,
                             description=f"What customers know as {team.name.lower()} part {i}.",
                             services=services[i * 3:i * 3 + 3])
            components += 1

    def incident(team, lead, services, started, rank):
        found = create_incident(title=f"{services[0].name} is failing", severity=severities[rank], team=team,
                                by=lead, services=services, now=started)
        post_status_update(incident=found, state="investigating", body="We are looking into errors.",
                           public=True, by=lead, now=started + timedelta(minutes=5))
        post_status_update(incident=found, state="investigating", body="Internal: rollback of build 1234.",
                           public=False, by=lead, now=started + timedelta(minutes=8))
        post_status_update(incident=found, state="identified", body="We found the cause; a fix is rolling out.",
                           public=True, by=lead, now=started + timedelta(minutes=20))
        return found

    resolved = 300
    for _ in range(resolved):
        team, lead, services = rng.choice(teams)
        started = now - timedelta(days=rng.uniform(0.5, 89.5))
        found = incident(team, lead, rng.sample(services[:20], rng.choice((1, 1, 2))), started,
                         rng.choice((1, 2, 2, 3, 3, 3, 4)))
        resolve_incident(incident=found, by=lead, summary="Fixed.", update_body="This incident is resolved.",
                         update_public=True, now=started + timedelta(minutes=rng.randint(30, 300)))
    for rank in (1, 2, 3):
        team, lead, services = teams[rank - 1]
        incident(team, lead, [services[rank]], now - timedelta(minutes=40 * rank), rank)
    create_maintenance_window(service=teams[2][2][1], starts_at=now - timedelta(minutes=30),
                              ends_at=now + timedelta(hours=3), by=None, reason="database upgrade")
    create_maintenance_window(service=teams[0][2][4], starts_at=now + timedelta(days=1),
                              ends_at=now + timedelta(days=1, hours=1), by=None, reason="network maintenance")
    return {"teams": len(teams), "services": 60, "components": components, "resolved": resolved, "open": 3}


def seeded_already() -> dict:
    from comms.models import Component
    from incidents.models import Incident, Service
    from oncall.models import Team

    return {"teams": Team.objects.count(), "services": Service.objects.count(),
            "components": Component.objects.count(),
            "resolved": Incident.objects.filter(resolved_at__isnull=False).count(),
            "open": Incident.objects.filter(resolved_at__isnull=True).count()}


# --- measuring ----------------------------------------------------------------------------------------

def start_gunicorn(args, env: dict, port: int, app: str = "config.wsgi") -> subprocess.Popen:
    command = [str(Path(PYTHON).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", app,
               "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "-k", args.worker_class,
               "--threads", str(args.threads), "--backlog", "2048", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own command line
    wait_for(port)
    return server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(20)


def get_once(conn: http.client.HTTPConnection, path: str, headers=None) -> tuple[int, bytes, dict]:
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    return response.status, body, dict(response.getheaders())


def a_change():
    """Something a reader sees changes: a component's description, as a lead edits it (new ETag)."""
    from comms.models import Component
    from comms.services import update_component

    component = Component.objects.order_by("id").first()
    text = component.description
    edited = text[:-1] if text.endswith("!") else text + "!"
    update_component(component=component, by=None, description=edited)


def cold_one_at_a_time(port: int, n: int) -> dict:
    """A change, then GET /status/, ``n`` times on one keep-alive connection: the first reader after a
    change, who computes the version and renders (the change itself is not timed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, statuses = [], {}
    for _ in range(n):
        a_change()
        started = time.perf_counter()
        status, _, _ = get_once(conn, "/status/")
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
    conn.close()
    q = statistics.quantiles(latencies, n=100)
    return {"n": n, "rate": n / sum(latencies), "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
            "statuses": statuses}


def line(label: str, result: dict) -> str:
    return (f"{label}: {result['rate']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"statuses {result['statuses']}")


def profile(top: int) -> None:
    """One warm and one cold GET /status/ through Django's whole handler, in this process."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/status/")  # imports, template compilation, connections

    def run(label, before):
        times, prof = [], cProfile.Profile()
        for _ in range(50):
            before()
            started = time.perf_counter()
            prof.enable()
            response = client.get("/status/")
            prof.disable()
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("tottime").print_stats(top)
        print(f"== profile, {label}: median {statistics.median(times) * 1000:.2f} ms a request "
              f"(in-process, with cProfile's overhead; 50 requests)")
        print("\n".join(out.getvalue().splitlines()[:top + 12]))

    run("warm (served from the cache)", lambda: None)
    run("cold (a change before each request)", a_change)


def main() -> None:  # noqa: PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10000, help="warm GET /status/ requests")
    parser.add_argument("--cold-requests", type=int, default=200, help="cold requests, one at a time")
    parser.add_argument("--cold-load-requests", type=int, default=600, help="cold requests under load")
    parser.add_argument("--connections", type=int, default=8, help="client keep-alive connections")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--worker-class", default="gthread", help="gthread (keep-alive) or sync")
    parser.add_argument("--redis", default="", metavar="URL", help="a Redis database of the benchmark's own")
    parser.add_argument("--profile", action="store_true", help="also profile a warm and a cold request")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--reuse-database", action="store_true",
                        help=f"measure {DB_NAME} as an earlier run left it (no fresh database, no seeding)")
    args = parser.parse_args()

    admin_url, bench_url = database_urls()
    if not args.reuse_database:
        fresh_database(admin_url)
    scratch = Path(tempfile.mkdtemp(prefix="vigil-bench-status-"))
    from tests.paging.celery_procs import RedisServer

    private_redis = None
    if args.redis:
        redis_url = args.redis
    else:
        if not shutil.which("redis-server"):
            raise SystemExit("redis-server is not installed: pass --redis URL")
        private_redis = RedisServer(scratch)
        private_redis.start()
        redis_url = private_redis.url
    import redis

    redis_client = redis.Redis.from_url(redis_url)
    redis_client.flushdb()
    env = server_env(bench_url, redis_url, str(scratch / "static"))
    servers = []
    try:
        print(f"database {DB_NAME}: migrating, collecting static files…", flush=True)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,  # noqa: S603
                       env=env, check=True)
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        started = time.perf_counter()
        seeded = seeded_already() if args.reuse_database else seed(random.Random(15))
        print(f"seeded {seeded} in {time.perf_counter() - started:.1f} s", flush=True)
        redis_client.flushdb()  # the seeding's queued tasks (no worker runs here)

        port = free_port()
        server = start_gunicorn(args, env, port)
        servers.append(server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, body, headers = get_once(conn, "/status/")
        assert status == 200, (status, body[:500])
        etag = headers["ETag"]
        print(f"GET /status/: {len(body):,} bytes, Cache-Control {headers.get('Cache-Control')!r}, "
              f"Vary {headers.get('Vary')!r}, ETag {etag}")
        conn.close()
        # Warm up every worker and thread (imports, connections, compiled templates).
        load(port, [("GET", "/status/", None)] * 500, args.connections)
        load(port, [("GET", "/healthz", None)] * 500, args.connections)

        results = {}
        results["healthz"] = load(port, [("GET", "/healthz", None)] * args.requests, args.connections, server.pid)
        results["warm"] = load(port, [("GET", "/status/", None)] * args.requests, args.connections, server.pid)
        results["revalidate"] = load_conditional(port, etag, args.requests, args.connections, server.pid)
        results["cold_one"] = cold_one_at_a_time(port, args.cold_requests)
        healthz_after = load(port, [("GET", "/healthz", None)] * args.requests, args.connections, server.pid)
        if healthz_after["rate"] > results["healthz"]["rate"]:
            results["healthz"] = healthz_after
        stop(server)
        servers.remove(server)

        (scratch / "bench_status_reused_client.py").write_text(REUSED_CLIENT_WSGI)
        scratch_env = dict(env, PYTHONPATH=os.pathsep.join(filter(None, [str(scratch), str(ROOT),
                                                                         env.get("PYTHONPATH")])))
        port = free_port()
        server = start_gunicorn(args, scratch_env, port, app="bench_status_reused_client:application")
        servers.append(server)
        load(port, [("GET", "/status/", None)] * 500, args.connections)
        results["warm_reused"] = load(port, [("GET", "/status/", None)] * args.requests, args.connections,
                                      server.pid)
        stop(server)
        servers.remove(server)

        (scratch / "bench_status_cold.py").write_text(COLD_WSGI)
        port = free_port()
        server = start_gunicorn(args, scratch_env, port, app="bench_status_cold:application")
        servers.append(server)
        load(port, [("GET", "/status/", None)] * 50, args.connections)
        results["cold_load"] = load(port, [("GET", "/status/", None)] * args.cold_load_requests, args.connections,
                                    server.pid)
        stop(server)
        servers.remove(server)

        if args.profile:
            profile(args.profile_top)
    finally:
        for server in servers:
            stop(server)
        if private_redis is not None:
            private_redis.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    warm = results["warm"]
    print(f"== GET /status/ on PostgreSQL + Redis: {seeded['components']} components, {seeded['services']} services, "
          f"{seeded['resolved']} resolved public incidents over 90 days, {seeded['open']} open")
    print(f"gunicorn: {args.workers} workers × {args.threads} threads ({args.worker_class}); client: one process, "
          f"{args.connections} keep-alive connections (raw sockets, pre-built requests)")
    print(line("ceiling GET /healthz", results["healthz"]))
    print(_cpu_line(results["healthz"]))
    print(line("warm GET /status/ (from the cache)", warm))
    print(_cpu_line(warm))
    print(f"  warm is {warm['rate'] / results['healthz']['rate']:.0%} of the ceiling")
    print(line("warm, with Django's Redis client reused (a proposal for config, patched in)", results["warm_reused"]))
    print(_cpu_line(results["warm_reused"]))
    print(line("revalidation GET /status/ with If-None-Match (304)", results["revalidate"]))
    print(_cpu_line(results["revalidate"]))
    print(line("cold GET /status/, one at a time, each after a change", results["cold_one"]))
    print(line("cold GET /status/ under load (server cache off: every request renders)", results["cold_load"]))
    print(_cpu_line(results["cold_load"]))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine skews every figure)")
    ok = warm["rate"] >= TARGET and set(warm["statuses"]) == {200}
    print(f"target: ≥ {TARGET} req/s warm: " + ("PASS" if ok else "BELOW TARGET"))


def load_conditional(port: int, etag: str, n: int, connections: int, server_pid: int) -> dict:
    """GET /status/ with If-None-Match, through bench_ingest's client (its requests are raw bytes)."""
    import tests.benchmarks.bench_ingest as ingest

    plain = ingest._raw

    def with_etag(method, path, body):
        return plain(method, path, body).replace(b"\r\n\r\n", f"\r\nIf-None-Match: {etag}\r\n\r\n".encode(), 1)

    ingest._raw = with_etag
    try:
        return load(port, [("GET", "/status/", None)] * n, connections, server_pid)
    finally:
        ingest._raw = plain


if __name__ == "__main__":
    main()
