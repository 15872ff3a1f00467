"""Ingest benchmark: Events v2 triggers against gunicorn as the README runs it, on PostgreSQL and on SQLite.

    .venv/bin/python tests/benchmarks/bench_ingest.py [--events 6000] [--redis redis://127.0.0.1:6379/0]

For each database (a fresh PostgreSQL database ``vigil_bench``, then a fresh
SQLite file), the same steps:
1. migrate, collect static files (DEBUG=0 needs them), seed a team, a service,
   an events_v2 and an alertmanager integration (rate limits raised out of
   the way: the limit still counts every request, it just never says no);
2. start gunicorn as the README says (config/gunicorn.conf.py: gthread,
   3 workers × 4 threads on 2 cores) on a free loopback port, DEBUG=0;
3. measure GET /healthz (the framework's ceiling), then post Events v2
   triggers — a share of new dedup keys (default 10 %), the rest repeated
   from a pool, so both "open an incident" and "join an incident" are
   measured — then /healthz again; the higher ceiling counts. One client
   process drives every keep-alive connection with pre-built raw requests,
   and reads the CPU each side spent per request from /proc;
4. post one Alertmanager notification of 1,000 alerts three times: firing
   (opens the incident), firing again (refreshes the alerts), resolved;
5. (PostgreSQL) measure POST /bench/floor/ (tests/benchmarks/floor_urls.py):
   the same bodies, each stored by ONE INSERT in autocommit, the floor under
   any design that stores an event before answering.

Targets (PostgreSQL): ≥ 250 events/s with p99 ≤ 250 ms, and each 1,000-alert
notification answered in < 2 s. Every process shares the machine's cores, so
other work on it skews every figure: read the rates beside the same run's
/healthz. With ``--redis`` the server runs with REDIS_URL (the production
pairing: rate-limit counts in Redis, Celery's broker); without, each worker
counts in its own memory. DATABASE_URL may point at another PostgreSQL
server; only its database name is replaced.
"""

import argparse
import http.client
import json
import os
import random
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DB_NAME = "vigil_bench"


def database_urls() -> tuple[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
    admin = urlunsplit(parts._replace(path="/postgres"))
    bench = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    return admin, bench


def fresh_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def server_env(database_url: str, redis_url: str, static_root: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url, "DEBUG": "0", "STATIC_ROOT": static_root,
        "SECRET_KEY": "benchmark-only-secret-key-not-for-production-0123456789abcdef",
        "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        # Vigil's settings plus the floor URL (see floor_settings.py).
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.floor_settings",
    })
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the server makes its own (config/gunicorn.conf.py)
    if redis_url:  # the production pairing: rate-limit counts (Django's cache) and Celery's broker in Redis
        env["REDIS_URL"] = redis_url
    return env  # without: the embedded default, each worker counts in its own memory


SEED = """
import django; django.setup()
from oncall.models import Team
from incidents.models import Service
from alerts.services import create_integration, update_integration
team = Team.objects.create(slug="bench", name="Bench", timezone="UTC")
service = Service.objects.create(slug="bench-api", name="Bench API", team=team)
for kind in ("events_v2", "alertmanager"):
    integration, key = create_integration(service=service, kind=kind, name=kind, by=None)
    update_integration(integration=integration, by=None, rate_per_second=1_000_000, burst=1_000_000)
    print(key)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout=30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


# --- client ---------------------------------------------------------------------
#
# The load generator shares the machine's two cores with gunicorn and PostgreSQL,
# so it must be cheap: every request is built once, up front, as raw bytes, and
# one process drives all keep-alive connections with a selectors loop (no
# http.client, no threads). The same client measures /healthz and the events.

def _raw(method: str, path: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


class _Conn:
    __slots__ = ("sock", "buf", "started", "port")

    def __init__(self, port):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf = b""
        self.started = 0.0


def _response(buf: bytes):
    """(status, keep_alive, rest) once a whole response is in buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").lower()
    length = 0
    for line in head.split("\r\n")[1:]:
        if line.startswith("content-length:"):
            length = int(line[15:])
    if len(buf) < end + 4 + length:
        return None
    return int(head[9:12]), "connection: close" not in head, buf[end + 4 + length:]


def _cpu_seconds(pids) -> float:
    """utime + stime of processes, from /proc (Linux); 0 for any that is gone."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _pids(server_pid: int) -> dict:
    """gunicorn (master and workers), PostgreSQL and Redis processes (the servers are local)."""
    gunicorn, postgres, redis = {server_pid}, set(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name.startswith("postgres"):
            # Our database's backends and the shared writers; not other databases' backends (tests).
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            if DB_NAME in cmdline or any(w in cmdline for w in ("walwriter", "writer", "checkpointer")):
                postgres.add(int(entry.name))
        elif name.startswith("redis-server"):
            redis.add(int(entry.name))
        elif int(rest[1]) == server_pid:
            gunicorn.add(int(entry.name))
    return {"gunicorn": gunicorn, "postgres": postgres, "redis": redis}


def load(port, requests, connections, server_pid=None) -> dict:
    """Send pre-built requests over ``connections`` keep-alive connections, one in flight on each.

    With ``server_pid``, also the CPU each side spent per request: gunicorn,
    PostgreSQL (the benchmark database's backends and the WAL and background
    writers) and this client.
    """
    todo = iter([_raw(*r) for r in requests])
    pids = _pids(server_pid) if server_pid else {}
    # Per process, so that a PostgreSQL backend started during the run (a gunicorn
    # thread's first connection) counts from zero instead of being missed.
    cpu_before = {pid: _cpu_seconds([pid]) for group in pids.values() for pid in group}
    client_before = time.process_time()
    selector = selectors.DefaultSelector()
    latencies, statuses = [], {}

    def send(conn):
        request = next(todo, None)
        if request is None:
            selector.unregister(conn.sock)
            conn.sock.close()
            return False
        conn.started = time.perf_counter()
        conn.sock.sendall(request)  # small requests: fit in the socket buffer at once
        return True

    started = time.perf_counter()
    active = 0
    for _ in range(connections):
        conn = _Conn(port)
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        active += send(conn)
    while active:
        for key, _ in selector.select(timeout=30):
            conn = key.data
            try:
                chunk = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:  # closed by the server: count, reconnect, go on
                statuses[0] = statuses.get(0, 0) + 1
                selector.unregister(conn.sock)
                conn.sock.close()
                conn = _Conn(port)
                selector.register(conn.sock, selectors.EVENT_READ, conn)
                active -= 1
                active += send(conn)
                continue
            conn.buf += chunk
            done = _response(conn.buf)
            if done is None:
                continue
            status, keep_alive, conn.buf = done
            latencies.append(time.perf_counter() - conn.started)
            statuses[status] = statuses.get(status, 0) + 1
            if not keep_alive:
                selector.unregister(conn.sock)
                conn.sock.close()
                conn = _Conn(port)
                selector.register(conn.sock, selectors.EVENT_READ, conn)
            if not send(conn):
                active -= 1
    elapsed = time.perf_counter() - started
    n = len(latencies)
    after = _pids(server_pid) if server_pid else {}
    cpu = {name: sum(max(0.0, _cpu_seconds([pid]) - cpu_before.get(pid, 0.0))  # 0 for a process gone since
                     for pid in group | pids.get(name, set())) * 1000 / n
           for name, group in after.items()}
    cpu["client"] = (time.process_time() - client_before) * 1000 / n
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"n": n, "seconds": elapsed, "rate": n / elapsed, "cpu_ms": cpu,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "statuses": statuses}


def _cpu_line(result) -> str:
    cpu = result["cpu_ms"]
    return "  CPU per request: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items()) + \
        f" (total {sum(cpu.values()):.2f} ms)"


def event_requests(key, count, new_share, pool, pool_once=False) -> list:
    rng = random.Random(42)
    hot = [f"bench/repeated-{i}" for i in range(pool)]
    out = []
    keys = hot if pool_once else [
        f"bench/new-{i}" if rng.random() < new_share else rng.choice(hot) for i in range(count)
    ]
    for i, dedup in enumerate(keys):
        body = json.dumps({
            "routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": f"Bench alert {dedup}", "source": "bench", "severity": rng.choice(
                ["critical", "error", "warning", "info"]), "custom_details": {"i": i}},
        }).encode()
        out.append(("POST", "/v2/enqueue", body))
    return out


def alertmanager_body(n: int, status: str) -> bytes:
    """One Alertmanager notification of ``n`` alerts of one group, as Alertmanager posts it."""
    alerts = [{
        "status": status, "fingerprint": f"{i:016x}", "startsAt": "2026-11-20T14:00:00Z",
        "endsAt": "2026-11-20T14:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "labels": {"alertname": "DiskFull", "instance": f"db-{i}:9100", "job": "node", "severity": "warning"},
        "annotations": {"summary": f"Disk 95% full on db-{i}", "runbook_url": "https://runbooks.example/disk"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk",
    } for i in range(n)]
    return json.dumps({"version": "4", "groupKey": '{}:{alertname="DiskFull"}', "status": status,
                       "receiver": "vigil", "groupLabels": {"alertname": "DiskFull"},
                       "commonLabels": {"alertname": "DiskFull", "job": "node"}, "alerts": alerts}).encode()


def notify(port: int, key: str, body: bytes) -> tuple[int, float]:
    """POST one Alertmanager notification: (status, seconds until the whole answer was read)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("POST", "/api/v1/integrations/alertmanager/", body=body,
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, elapsed


def measure(name: str, database_url: str, args, static_root: str, *, floor: bool) -> dict:
    """Migrate and seed ``database_url``, serve it with gunicorn, and run the loads: the figures."""
    env = server_env(database_url, args.redis, static_root)
    print(f"{name}: migrating, collecting static files, seeding…", flush=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,  # noqa: S603
                   check=True)
    seeded = subprocess.run([PYTHON, "-c", SEED], cwd=ROOT, env=env, check=True,  # noqa: S603
                            capture_output=True, text=True)
    key, am_key = seeded.stdout.strip().splitlines()[-2:]
    if floor:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, body jsonb NOT NULL, "
                         "received_at timestamptz NOT NULL DEFAULT now())")

    port = free_port()
    # The README's production command (config/gunicorn.conf.py: gthread, keep-alive, metrics of every
    # worker added up), with the shape given on the command line.
    gunicorn = [str(Path(PYTHON).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi",
                "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "-k", args.worker_class,
                "--threads", str(args.threads), "--backlog", "2048", "--log-level", "warning"]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)  # noqa: S603 - our own command line
    result = {"name": name}
    try:
        wait_for(port)
        # Warm up: connections, imports, and one trigger per pooled key, so that
        # "repeated" below means joining an open incident and "new" opening one.
        load(port, event_requests(key, 0, 0, args.pool, pool_once=True), 4)
        load(port, [("GET", "/healthz", None)] * 1000, 4)

        # The ceiling is measured before and after the events and the higher one
        # counts: a dip from other work on the machine cannot inflate the ratio.
        healthz = [("GET", "/healthz", None)] * (args.ceiling_requests // 2)
        ceilings = [load(port, healthz, args.connections, server.pid)]
        events = args.events if floor else args.sqlite_events
        result["ingest"] = load(port, event_requests(key, events, args.new_share, args.pool), args.connections,
                                server.pid)
        ceilings.append(load(port, healthz, args.connections, server.pid))
        result["ceilings"] = ceilings
        result["ceiling"] = max(ceilings, key=lambda r: r["rate"])
        result["alertmanager"] = [
            (label, *notify(port, am_key, alertmanager_body(args.alerts, status)))
            for label, status in (("firing, opens the incident", "firing"),
                                  ("firing again, refreshes the alerts", "firing"),
                                  ("resolved", "resolved"))
        ]
        if floor:
            bodies = event_requests(key, args.events, args.new_share, args.pool)
            result["floor"] = load(port, [("POST", "/bench/floor/", body) for _, _, body in bodies],
                                   args.connections, server.pid)
    finally:
        server.terminate()
        server.wait(20)
    return result


def report(result: dict, args) -> bool:
    ingest, ceiling = result["ingest"], result["ceiling"]
    print(f"== {result['name']}")
    print(f"events v2 triggers: {ingest['n']} ({args.new_share:.0%} new dedup keys, the rest from "
          f"{args.pool} repeated keys), statuses {ingest['statuses']}")
    print(f"  {ingest['rate']:.0f} events/s, p50 {ingest['p50_ms']:.1f} ms, p99 {ingest['p99_ms']:.1f} ms")
    print(_cpu_line(ingest))
    print(f"ceiling GET /healthz, same run: {ceiling['rate']:.0f} req/s, p50 {ceiling['p50_ms']:.1f} ms, "
          f"p99 {ceiling['p99_ms']:.1f} ms (the higher of "
          f"{' and '.join(str(round(c['rate'])) for c in result['ceilings'])} req/s, before and after the events)")
    print(_cpu_line(ceiling))
    print(f"  ingestion is {ingest['rate'] / ceiling['rate']:.0%} of the ceiling")
    slowest = 0.0
    for label, status, seconds in result["alertmanager"]:
        print(f"alertmanager notification of {args.alerts} alerts, {label}: {status} in {seconds * 1000:.0f} ms")
        slowest = max(slowest, seconds) if status == 202 else float("inf")
    if "floor" in result:
        floor = result["floor"]
        print(f"floor POST /bench/floor/ (the same bodies, one INSERT each): {floor['rate']:.0f} req/s, "
              f"p50 {floor['p50_ms']:.1f} ms, p99 {floor['p99_ms']:.1f} ms, statuses {floor['statuses']}")
        print(f"  ingestion is {ingest['rate'] / floor['rate']:.0%} of the floor")
    return (ingest["rate"] >= 250 and ingest["p99_ms"] <= 250 and set(ingest["statuses"]) == {202}
            and slowest < 2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=6000, help="Events v2 triggers on PostgreSQL")
    parser.add_argument("--sqlite-events", type=int, default=3000, help="Events v2 triggers on SQLite")
    parser.add_argument("--alerts", type=int, default=1000, help="alerts in the Alertmanager notification")
    parser.add_argument("--ceiling-requests", type=int, default=12000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--worker-class", default="gthread", help="gthread (keep-alive) or sync")
    parser.add_argument("--connections", type=int, default=16, help="client keep-alive connections")
    parser.add_argument("--new-share", type=float, default=0.1, help="share of triggers with a new dedup key")
    parser.add_argument("--pool", type=int, default=200, help="repeated dedup keys to draw from")
    parser.add_argument("--redis", default="", metavar="URL",
                        help="serve with REDIS_URL=URL (rate-limit counts in Redis, as deployed with PostgreSQL)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()

    admin_url, bench_url = database_urls()
    fresh_database(admin_url)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as scratch:
        results = [measure("PostgreSQL", bench_url, args, str(Path(scratch) / "static"), floor=True)]
        if not args.no_sqlite:
            sqlite_url = f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
            results.append(measure("SQLite", sqlite_url, args, str(Path(scratch) / "static"), floor=False))

    print(f"gunicorn: {args.workers} workers × {args.threads} threads ({args.worker_class}); client: one process, "
          f"{args.connections} keep-alive connections (raw sockets, pre-built requests); rate-limit counts: "
          f"{'Redis ' + args.redis if args.redis else 'each worker in its own memory'}")
    ok = [report(result, args) for result in results][0]
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine skews every figure)")
    print("targets (PostgreSQL): ≥ 250 events/s, p99 ≤ 250 ms, a 1,000-alert notification in < 2 s: "
          + ("PASS" if ok else "BELOW TARGET"))


if __name__ == "__main__":
    main()
