"""On-call benchmark: final shifts for a year, and who is on call across 200 teams.

    .venv/bin/python tests/benchmarks/bench_oncall.py [--postgres] [--runs 20]

1. migrates a throwaway database: a temporary SQLite file, or with
   --postgres a fresh PostgreSQL database ``vigil_oncall_bench`` (on the
   server of DATABASE_URL, default postgres://postgres@127.0.0.1:5432/);
2. seeds a 10-person weekly rotation (Europe/Berlin, so the year crosses
   both DST changes) with 200 overrides, and 200 teams with a weekly primary
   and a daily secondary rotation of 5 people and a few overrides each;
3. times ``final_shifts`` for a one-year window — end to end (three queries:
   rotation, participants, overrides) and the computation alone on
   prefetched rows — and ``who_is_on_call`` for all 200 teams end to end;
4. prints the median and p90 of ``--runs`` runs, and the query counts.

Targets (issue #4): final shifts < 50 ms, who-is-on-call for 200 teams < 200 ms.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DB_NAME = "vigil_oncall_bench"


def configure(postgres: bool) -> None:
    if postgres:
        import psycopg

        parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    else:
        path = Path(tempfile.mkdtemp(prefix="vigil-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "1"  # the embedded defaults (no SECRET_KEY needed); queries are counted below
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed():
    from oncall.models import Membership, Team, User
    from oncall.services import create_override, create_rotation

    rng = random.Random(4)
    base = Team.objects.create(slug="bench", name="Bench", timezone="Europe/Berlin")
    people = [User.objects.create(username=f"b{i}", email=f"b{i}@example.com") for i in range(10)]
    Membership.objects.bulk_create(Membership(team=base, user=u) for u in people)
    big = create_rotation(team=base, name="Primary", participants=people, shift_length="P7D",
                          handoff_at=datetime(2026, 1, 5, 9), timezone="Europe/Berlin")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(200):
        begin = start + timedelta(hours=rng.randrange(0, 365 * 24))
        create_override(rotation=big, user=rng.choice(people), start=begin,
                        end=begin + timedelta(hours=rng.randrange(2, 72)))

    zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"]
    for t in range(200):
        team = Team.objects.create(slug=f"team-{t}", name=f"Team {t}", timezone=zones[t % 5])
        members = [User.objects.create(username=f"t{t}p{i}") for i in range(5)]
        Membership.objects.bulk_create(Membership(team=team, user=u) for u in members)
        primary = create_rotation(team=team, name="Primary", participants=members, shift_length="P7D",
                                  handoff_at=datetime(2026, 1, 5, 9), timezone=team.timezone)
        create_rotation(team=team, name="Secondary", layer="secondary", participants=members[::-1],
                        shift_length="P1D", handoff_at=datetime(2026, 1, 6, 9), timezone=team.timezone)
        for _ in range(3):
            begin = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 24 * 30))
            create_override(rotation=primary, user=rng.choice(members), start=begin,
                            end=begin + timedelta(hours=rng.randrange(2, 48)))
    return big


def timed(fn, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm up
    samples = []
    for _ in range(runs):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            result = fn()
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
    return statistics.median(samples), p90, len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    configure(args.postgres)
    from django.db import connection

    t0 = time.perf_counter()
    big = seed()
    seeded = time.perf_counter() - t0

    from oncall.schedule import final_shifts, rotation_queryset, who_is_on_call

    year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))

    def load_and_compute():
        rotation = rotation_queryset(overrides_between=year).get(pk=big.pk)
        return final_shifts(rotation, *year)

    loaded = rotation_queryset(overrides_between=year).get(pk=big.pk)
    e2e = timed(load_and_compute, args.runs)
    pure = timed(lambda: final_shifts(loaded, *year), args.runs)
    oncall = timed(lambda: who_is_on_call(datetime(2026, 6, 15, 12, tzinfo=UTC)), args.runs)

    print(f"database: {connection.vendor}; seeded in {seeded:.1f} s; {args.runs} runs each, median / p90")
    print(f"final_shifts, 1 year, 10-person weekly rotation, 200 overrides ({len(e2e[3])} shifts):")
    print(f"  end to end (load + compute): {e2e[0]:7.1f} ms / {e2e[1]:7.1f} ms, {e2e[2]} queries   target < 50 ms")
    print(f"  computation on loaded rows:  {pure[0]:7.1f} ms / {pure[1]:7.1f} ms, {pure[2]} queries")
    print(f"who_is_on_call, 200 teams, 400 rotations ({len(oncall[3])} on call):")
    print(f"  end to end:                  {oncall[0]:7.1f} ms / {oncall[1]:7.1f} ms, {oncall[2]} queries   target < 200 ms")


if __name__ == "__main__":
    main()
