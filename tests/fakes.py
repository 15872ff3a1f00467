"""Local fake servers for what is outside the machine: an SMTP relay and HTTP APIs.

The real client code (Django's SMTP backend, httpx) talks to them over
loopback; the tests read what arrived. They run in threads of the test
process, not as processes, so tests using them stay in the fast tier.

- ``FakeSMTPServer``: aiosmtpd on 127.0.0.1; ``messages`` holds what it
  accepted (parsed), ``refuse`` maps an address to the reply its RCPT gets
  (``"550 5.1.1 No such user"``, ``"451 4.3.0 Try later"``).
- ``FakeHTTPServer``: records every request (``requests``) and answers from
  a script (``answer(...)``, consumed in order, then the default) — a fake
  Slack API, a webhook receiver, a Twilio-compatible provider.

Both are context managers; the fixtures in ``tests/paging/conftest.py``
start them and point the settings at them.
"""

import email
import email.policy
import json
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

from tests.net import free_port

# --- SMTP -------------------------------------------------------------------------


class _SMTPHandler:
    def __init__(self, server: "FakeSMTPServer"):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        refusal = self.server.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.messages.append(message)
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class FakeSMTPServer:
    """An SMTP relay on 127.0.0.1 that keeps what it accepts (``messages``: ``email.message.EmailMessage``)."""

    def __init__(self):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.messages: list = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self._controller = Controller(_SMTPHandler(self), hostname=self.host, port=self.port)

    def start(self) -> "FakeSMTPServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- HTTP -------------------------------------------------------------------------


@dataclass
class Answer:
    """One scripted answer: a status, a body (dict/list as JSON, str or bytes as is), headers, a delay."""

    status: int = 200
    body: object = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a timeout for a client with a shorter one)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return bytes(self.body), "application/octet-stream"


@dataclass
class Request:
    """A request the fake server received."""

    method: str
    path: str
    headers: Message  # read case-insensitively: headers["X-Vigil-Signature"]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """An urlencoded form body, one value per name."""
        return {name: values[-1] for name, values in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class FakeHTTPServer:
    """An HTTP server on 127.0.0.1 that records requests and answers as scripted.

    ``answer(Answer(...), ...)`` queues answers, used one per request in order;
    once they run out, every request gets ``default``. ``url`` is its base URL.
    """

    def __init__(self, default: Answer | None = None):
        self.default = default or Answer(200, {"ok": True})
        self.requests: list[Request] = []
        self._script: list[Answer] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake._lock:
                    fake.requests.append(Request(self.command, self.path, self.headers, body))
                    answer = fake._script.pop(0) if fake._script else fake.default
                if answer.delay:
                    time.sleep(answer.delay)
                payload, content_type = answer.encoded()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_POST = do_GET = do_PUT = _serve  # noqa: N815 - http.server's names

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def answer(self, *answers: Answer) -> "FakeHTTPServer":
        with self._lock:
            self._script.extend(answers)
        return self

    def start(self) -> "FakeHTTPServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
