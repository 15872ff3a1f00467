"""The escalation engine with real processes: PostgreSQL, Redis, ``celery -A config worker`` and ``beat``.

"The database decides, Celery delivers" (ARCHITECTURE.md) is a promise about
crashes, duplicates and outages, so it is checked with the real thing: the
test commits its data to the test database, starts Celery worker (and beat)
processes on it with the production settings, and reads what reached a local
SMTP server (``tests/paging/celery_procs.py``: an aiosmtpd server in this
process, and a "tarpit" that accepts and never answers):

- an Events v2 trigger e-mails the first step's person within 2 s;
- an acknowledgement stops the run: its next step, come due, pages nobody;
- the same advance task delivered three times (and once with a stale token),
  and the same delivery twice more, send one e-mail;
- a worker killed with SIGKILL while sending, or while inside ``advance``,
  leaves the page to be sent exactly once (the lease, the sweep, the
  broker's redelivery);
- with the broker down when the incident triggers, the request is answered
  and the page goes out within one sweep once the broker is back.

PostgreSQL and Redis only (the worker is another process on the same
database and broker): skipped on SQLite, or without ``REDIS_URL``.
"""

import json
import re
import shutil
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Incident
from incidents.services import acknowledge_incident
from oncall.models import EscalationPolicy
from paging.models import EscalationRun, Notification, PagingEvent
from paging.tasks import advance, deliver, sweep
from tests.factories import ensure_severities, make_incident
from tests.net import free_port, wait_until
from tests.paging.celery_procs import (
    Mailbox,
    Proc,
    RedisServer,
    Tarpit,
    celery_env,
    database_url,
    start_beat,
    start_worker,
)

pytestmark = [pytest.mark.process, pytest.mark.django_db(transaction=True)]

SWEEP = 1  # PAGING_SWEEP_SECONDS for the beat of these tests
LEASE = 5  # PAGING_DELIVERY_LEASE_SECONDS (its least value)
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


class Engine:
    """Celery workers and beats started by one test on the test database; all stopped at its end."""

    def __init__(self, log_dir: Path, redis: str):
        self.log_dir, self.redis, self.procs = log_dir, redis, []
        self.database = database_url(connection.settings_dict)

    def env(self, smtp_port: int, *, redis: str | None = None, **extra) -> dict:
        return celery_env(database=self.database, redis=redis or self.redis, smtp_port=smtp_port, **extra)

    def worker(self, smtp_port: int, *, name="worker", concurrency=2, redis=None, **extra) -> Proc:
        proc = start_worker(self.env(smtp_port, redis=redis, **extra), self.log_dir, name=name, concurrency=concurrency)
        self.procs.append(proc)
        return proc

    def beat(self, smtp_port: int, *, redis=None, **extra) -> Proc:
        proc = start_beat(self.env(smtp_port, redis=redis, PAGING_SWEEP_SECONDS=SWEEP, **extra), self.log_dir)
        self.procs.append(proc)
        return proc

    def close(self):
        for proc in reversed(self.procs):
            proc.stop()


@pytest.fixture
def engine(transactional_db, on_postgres, settings, tmp_path):
    if not settings.REDIS_URL.startswith("redis"):
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/10")
    ensure_severities()
    engine = Engine(tmp_path, settings.REDIS_URL)
    yield engine
    engine.close()  # before the database is emptied: no process of ours holds it


def policy(team, *steps):
    """The team's default policy; each step pages the people given, a minute before the next."""
    return EscalationPolicy.objects.create(team=team, name="Payments on call", is_default=True, steps=[
        {"delay_minutes": 1, "targets": [{"type": "user", "id": person.pk} for person in people]}
        for people in steps
    ])


def declare(team, by, title="Checkout is failing"):
    return make_incident(team=team, by=by, title=title, sev="SEV2")


def results(proc: Proc, task: str) -> list[str]:
    """What each run of ``task`` returned, from the worker's log ("Task … succeeded in 0.01s: True")."""
    pattern = rf"Task paging\.tasks\.{task}\[[^\]]+\] succeeded in [^:]+: (.+)$"
    return re.findall(pattern, proc.output(), re.M)


def warm_up(worker: Proc, url: str) -> None:
    """A first request and first tasks pay for imports and connections; a running system has paid."""
    assert _answers(f"{url}/healthz")
    for _ in range(4):
        sweep.apply_async()
    wait_until(lambda: len(results(worker, "sweep")) == 4, "four sweeps", 20, worker.output)


def result_of(proc: Proc, task_id: str) -> str | None:
    """What the task with this id returned, once the worker logged it."""
    found = re.search(rf"Task paging\.tasks\.\w+\[{re.escape(task_id)}\] succeeded in [^:]+: (.+)$", proc.output(), re.M)
    return found.group(1) if found else None


def post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return response.status


def trigger(key: str, dedup: str = "checkout-5xx") -> dict:
    return {"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": "Checkout 5xx above 5%", "source": "web-1", "severity": "error"}}


# --- a: punctual ---------------------------------------------------------------------

def test_an_events_v2_trigger_emails_the_first_step_within_two_seconds(engine, live_server, events, payments,
                                                                       alice, bob):
    policy(payments, [bob], [alice])
    with Mailbox() as mailbox:
        worker = engine.worker(mailbox.port)
        warm_up(worker, live_server.url)
        posted = time.time()
        status = post(f"{live_server.url}/v2/enqueue", trigger(events.key))
        (mail,) = mailbox.wait_for(bob.email, timeout=10, log=worker.output)
        took = mail.at - posted
        print(f"\nEvents v2 trigger → bob's e-mail at the SMTP server: {took * 1000:.0f} ms")

        assert status == 202
        assert took < 2.0
        incident = Incident.objects.get()
        assert incident.number in mail.subject
        page = Notification.objects.get(pk=mail.notification)
        assert (page.user, page.incident, page.step, page.status) == (bob, incident, 0, Notification.Status.SENT)
        assert mailbox.to(alice.email) == []  # her step is a minute away


# --- b: acknowledged ---------------------------------------------------------------------

def test_an_acknowledged_incident_never_pages_its_next_step(engine, payments, alice, bob):
    policy(payments, [bob], [alice])
    with Mailbox() as mailbox:
        worker = engine.worker(mailbox.port)
        engine.beat(mailbox.port)
        acked, control = declare(payments, alice, "Checkout is failing"), declare(payments, alice, "Search is slow")
        mailbox.wait_for(bob.email, count=2, log=worker.output)  # step 1 of both
        run = EscalationRun.objects.get(incident=acked)
        token_before = run.token  # what the task queued for step 2 carries

        acknowledge_incident(incident=acked, by=bob)
        # A minute later: step 2 of both runs is due (set now instead of waiting the minute out).
        EscalationRun.objects.filter(incident__in=[acked, control]).update(next_step_at=timezone.now())
        run.refresh_from_db()
        sent = [advance.apply_async((run.pk, token_before)).id,  # the task queued for step 2 arrives: stale token
                advance.apply_async((run.pk, run.token)).id]  # even one with the current token: the run is stopped

        # The control incident, not acknowledged, pages alice at the next sweep: the sweep is alive.
        (mail,) = mailbox.wait_for(alice.email, log=worker.output)
        wait_until(lambda: all(result_of(worker, i) for i in sent), "the two advance tasks sent", 10, worker.output)
        sweeps = len(results(worker, "sweep"))
        wait_until(lambda: len(results(worker, "sweep")) >= sweeps + 2, "two more sweeps", 10, worker.output)

        assert [result_of(worker, i) for i in sent] == ["False", "False"]
        assert Notification.objects.get(pk=mail.notification).incident == control
        assert mailbox.to(alice.email) == [mail]
        assert not Notification.objects.filter(incident=acked, step=1).exists()
        run.refresh_from_db()
        assert (run.state, run.step, run.stopped_by) == (EscalationRun.State.ACKNOWLEDGED, 1, bob)
        assert PagingEvent.objects.filter(run=run, kind=PagingEvent.Kind.ESCALATED).count() == 1  # step 1 only


# --- c: duplicates -----------------------------------------------------------------------

def test_the_same_advance_delivered_three_times_and_a_stale_one_page_once(engine, payments, alice, bob):
    policy(payments, [bob], [alice])
    with Mailbox() as mailbox:
        incident = declare(payments, alice)  # no worker yet: its advance task waits in the broker
        run = EscalationRun.objects.get(incident=incident)
        for token in (run.token, run.token, "0" * 32):  # redelivered twice, and one from an older step
            advance.apply_async((run.pk, token))
        worker = engine.worker(mailbox.port, concurrency=4)  # the four may run at once

        wait_until(lambda: len(results(worker, "advance")) == 4, "four advance tasks", 20, worker.output)
        (mail,) = mailbox.wait_for(bob.email, log=worker.output)
        assert sorted(results(worker, "advance")) == ["False", "False", "False", "True"]

        # The advance that entered the step sent its page itself; a delivery task for it, delivered twice, sends nothing.
        for _ in range(2):
            deliver.apply_async((mail.notification,))
        wait_until(lambda: len(results(worker, "deliver")) == 2, "two deliveries", 10, worker.output)
        assert sorted(results(worker, "deliver")) == ["'skipped'", "'skipped'"]

        assert mailbox.to(bob.email) == [mail]
        page = Notification.objects.get(run=run)
        assert (page.pk, page.status, page.attempts) == (mail.notification, Notification.Status.SENT, 1)
        assert PagingEvent.objects.filter(run=run, kind=PagingEvent.Kind.ESCALATED).count() == 1


# --- d: SIGKILL --------------------------------------------------------------------------

def test_a_worker_killed_while_sending_leaves_each_page_to_be_sent_once_after_its_lease(engine, payments, alice, bob):
    policy(payments, [bob, alice])
    with Mailbox() as mailbox, Tarpit() as tarpit:
        # The first worker's SMTP relay accepts and never answers: the advance that entered the step hangs
        # sending its first page (it sends the step's pages itself, one after the other).
        stuck = engine.worker(tarpit.port, name="stuck-worker", PAGING_DELIVERY_LEASE_SECONDS=LEASE)
        incident = declare(payments, alice)
        wait_until(lambda: tarpit.connections == 1, "the first page to be sending", 20, stuck.output)
        pages = sorted(Notification.objects.filter(incident=incident), key=lambda p: p.status != "sending")
        assert [p.status for p in pages] == [Notification.Status.SENDING, Notification.Status.QUEUED]
        stuck.kill()  # SIGKILL to the worker and its pool: the claim stays, the task stays unacknowledged

        # Beat, and a new worker (which re-queues what the dead one held: visibility timeout 1 s).
        engine.beat(mailbox.port)
        worker = engine.worker(mailbox.port, PAGING_DELIVERY_LEASE_SECONDS=LEASE, CELERY_VISIBILITY_TIMEOUT_SECONDS=1)
        up = time.time()
        for person in (bob, alice):
            mailbox.wait_for(person.email, log=worker.output)
        # The redelivered advance has run too (the step was entered: it returns), and two sweeps since.
        wait_until(lambda: results(worker, "advance"), "the redelivered advance", 10, worker.output)
        sweeps = len(results(worker, "sweep"))
        wait_until(lambda: len(results(worker, "sweep")) >= sweeps + 2, "two more sweeps", 10, worker.output)

        claimed, waiting = pages
        (mail,) = mailbox.to(claimed.user.email)
        lease_ended = claimed.lease_until.timestamp()
        print(f"\n{claimed.user.username}: sent {mail.at - lease_ended:+.2f} s after the dead worker's lease ended, "
              f"{mail.at - up:+.2f} s after the new worker was up")
        # Not while the dead worker's lease holds; then within a sweep of both the lease ending and the worker.
        assert lease_ended <= mail.at <= max(lease_ended, up) + SWEEP + 3
        claimed.refresh_from_db()
        assert (claimed.status, claimed.attempts, mail.notification) == (Notification.Status.SENT, 2, claimed.pk)
        # The page still waiting its turn goes out with the first sweep, once.
        (mail,) = mailbox.to(waiting.user.email)
        assert mail.at <= up + SWEEP + 3
        waiting.refresh_from_db()
        assert (waiting.status, waiting.attempts) == (Notification.Status.SENT, 1)
        assert len(mailbox.mails) == 2


def test_a_worker_killed_inside_advance_leaves_the_step_to_be_entered_once(engine, payments, alice, bob):
    policy(payments, [bob, alice])
    with Mailbox() as mailbox:
        incident = declare(payments, alice)  # its advance task waits in the broker
        run = EscalationRun.objects.get(incident=incident)
        with connection.cursor() as cursor:
            # Hold the incident's row: the worker's advance_escalation locks the run (it skips a run locked
            # elsewhere), writes the step's rows, and waits to commit them.
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM incidents_incident WHERE id = %s FOR UPDATE", [incident.pk])
            stuck = engine.worker(mailbox.port, name="stuck-worker")

            def advance_waits():
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                # Its COMMIT waits: the foreign keys are checked then (deferred), which needs the incident's row.
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock' AND query = 'COMMIT'")
                return cursor.fetchone()[0] == 1

            wait_until(advance_waits, "the worker's advance to wait to commit", 20, stuck.output)
            stuck.kill()
            cursor.execute("ROLLBACK")

        worker = engine.worker(mailbox.port, CELERY_VISIBILITY_TIMEOUT_SECONDS=1)
        engine.beat(mailbox.port)
        for person in (bob, alice):
            mailbox.wait_for(person.email, log=worker.output)
        # The redelivered advance has run (it finds the step entered, or enters it), and two sweeps since.
        wait_until(lambda: results(worker, "advance"), "the redelivered advance", 10, worker.output)
        sweeps = len(results(worker, "sweep"))
        wait_until(lambda: len(results(worker, "sweep")) >= sweeps + 2, "two more sweeps", 10, worker.output)

        assert sorted(m.to[0] for m in mailbox.mails) == sorted([alice.email, bob.email])
        assert Notification.objects.filter(run=run).count() == 2
        assert PagingEvent.objects.filter(run=run, kind=PagingEvent.Kind.ESCALATED).count() == 1
        run.refresh_from_db()
        assert run.step == 1


# --- e: the broker down ----------------------------------------------------------------------

@pytest.fixture
def broker(tmp_path):
    """A private redis-server (that the test may stop and start again), stopped at the end."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def test_with_the_broker_down_the_trigger_is_stored_and_paged_within_a_sweep_of_its_return(
        engine, broker, events, payments, alice, bob, tmp_path):
    policy(payments, [bob], [alice])
    broker.start()
    broker.stop()  # down when the incident triggers
    with Mailbox() as mailbox:
        port = free_port()
        web = Proc("web", [GUNICORN, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                           "--threads", "2"], engine.env(mailbox.port, redis=broker.url, DEBUG="1"), tmp_path)
        engine.procs.append(web)
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), "gunicorn", 30, web.output)

        started = time.monotonic()
        status = post(f"http://127.0.0.1:{port}/v2/enqueue", trigger(events.key))
        answered = time.monotonic() - started
        print(f"\nEvents v2 trigger with the broker down: answered {status} in {answered * 1000:.0f} ms")
        assert status == 202
        assert answered < 5
        incident = Incident.objects.get()
        run = EscalationRun.objects.get(incident=incident)
        assert (run.state, run.step) == (EscalationRun.State.ACTIVE, 0)  # stored, not yet advanced
        wait_until(lambda: "the sweep will advance it" in web.output(), "the web's warning", 5, web.output)

        broker.start()
        back = time.time()
        worker = engine.worker(mailbox.port, redis=broker.url)
        engine.beat(mailbox.port, redis=broker.url)
        running = time.time()
        (mail,) = mailbox.wait_for(bob.email, log=worker.output)
        print(f"paged {mail.at - back:.2f} s after the broker returned, {mail.at - running:.2f} s after worker "
              f"and beat were up (sweep every {SWEEP} s)")
        assert mail.at - running <= SWEEP + 3
        assert Notification.objects.get(pk=mail.notification).incident == incident


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False
