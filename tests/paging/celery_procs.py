"""Real processes and local fake servers for the paging engine's crash tests and its benchmark.

- ``Mailbox``: an SMTP server (aiosmtpd) in this process that records every
  message with the moment it arrived (``time.time()``, comparable across
  processes on this machine) and the notification it carries
  (``X-Vigil-Notification``);
- ``Tarpit``: a TCP server that accepts connections and never says a word:
  an SMTP relay that hangs, so a worker delivering to it is stuck in ``send``;
- ``Proc``: a process of ours (Celery worker or beat, gunicorn, redis-server)
  in its own process group, with its output in a file, stopped (or killed
  with SIGKILL) as a group;
- ``celery_env``, ``start_worker``, ``start_beat``: ``celery -A config worker|beat``
  against a given database and broker.

Used by ``tests/paging/test_engine_celery.py`` and ``tests/benchmarks/bench_paging.py``
(which runs outside pytest, so nothing here needs a fixture).
"""

import email
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller

from tests.net import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")


# --- fake servers ------------------------------------------------------------------

@dataclass(frozen=True)
class Mail:
    at: float  # time.time() when the server had the whole message
    to: tuple[str, ...]
    subject: str
    notification: int | None  # the X-Vigil-Notification header


@dataclass
class _Recorder:
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        at = time.time()
        message = email.message_from_bytes(envelope.content)
        header = message.get("X-Vigil-Notification")
        with self.lock:
            self.mails.append(Mail(at, tuple(envelope.rcpt_tos), str(message.get("Subject", "")),
                                   int(header) if header and header.isdigit() else None))
        return "250 Message accepted for delivery"


class Mailbox:
    """A local SMTP server: what Vigil's workers sent, and when it arrived."""

    def __init__(self):
        self.port = free_port()
        self._recorder = _Recorder()
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()

    @property
    def mails(self) -> list[Mail]:
        with self._recorder.lock:
            return list(self._recorder.mails)

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20.0, log=None) -> list[Mail]:
        return wait_until(lambda: len(self.to(address)) >= count and self.to(address),
                          f"{count} e-mail(s) to {address}", timeout, log)


class Tarpit:
    """A TCP server that accepts and never answers: an SMTP relay hung before its greeting."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._accepted.append(conn)

    @property
    def connections(self) -> int:
        return len(self._accepted)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.close()
        for conn in self._accepted:
            conn.close()


# --- processes ---------------------------------------------------------------------

class Proc:
    """A process we started, leading its own process group, its output in ``log``."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = Path(log_dir) / f"{name}.log"
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out,  # noqa: S603 - our own command
                                          stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        wait_until(lambda: text in self.output() or self.popen.poll() is not None, f"{self.name}: {text!r}",
                   timeout, self.output)
        if text not in self.output():
            raise AssertionError(f"{self.name} exited ({self.popen.returncode}) before {text!r}:\n"
                                 f"{self.output()[-4000:]}")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group (the worker and its pool processes): no shutdown of any kind."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the group (a warm shutdown), SIGKILL if it is not gone in ``timeout``."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class RedisServer:
    """A private redis-server on a free port that can be stopped and started again on the same port."""

    def __init__(self, log_dir: Path):
        self.command = shutil.which("redis-server")
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: Proc | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = Proc(f"redis-{self.port}", [self.command, "--port", str(self.port), "--bind", "127.0.0.1",
                                                "--save", "", "--appendonly", "no"], dict(os.environ), self.log_dir)

        def answers():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until(answers, "redis-server to answer", 10, self.proc.output)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(5)
            self.proc = None


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for Django's connection settings (PostgreSQL)."""
    user = quote(settings_dict.get("USER") or "postgres", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


def celery_env(*, database: str, redis: str, smtp_port: int, **extra) -> dict:
    """The environment of a worker, beat or web process: production settings, our database, broker and SMTP."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "DJANGO_SETTINGS_MODULE")}
    env.update({
        "DATABASE_URL": database, "REDIS_URL": redis, "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0", "SECRET_KEY": "paging-engine-test-secret-key-0123456789abcdef0123456789abcdef",
        "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port), "PYTHONUNBUFFERED": "1",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(env: dict, log_dir: Path, *, name: str = "worker", concurrency: int = 2,
                 loglevel: str = "INFO", app: str = "config") -> Proc:
    """``celery -A config worker`` (prefork), returned once it says it is ready to take tasks."""
    proc = Proc(name, [CELERY, "-A", app, "worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
                       "--pool=prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
                       "-n", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"], env, log_dir)
    proc.wait_for(" ready.")
    return proc


def start_beat(env: dict, log_dir: Path, *, name: str = "beat") -> Proc:
    """``celery -A config beat`` (the database scheduler, as deployed), returned once it started."""
    proc = Proc(name, [CELERY, "-A", "config", "beat", "--loglevel=INFO",
                       "--schedule", str(Path(log_dir) / f"{name}-schedule")], env, log_dir)
    proc.wait_for("beat: Starting...")
    return proc
