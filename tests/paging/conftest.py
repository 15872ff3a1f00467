"""Paging's fixtures: local fake servers with the settings pointed at them, and contact methods.

- ``smtp_server``: a fake SMTP relay (``tests.fakes.FakeSMTPServer``) with
  Django's real SMTP backend pointed at it; ``smtp_server.messages``.
- ``http_server()``: starts a ``tests.fakes.FakeHTTPServer`` (stopped after
  the test); ``slack_api`` is one posing as Slack's Web API with a bot token
  set; ``sms_providers`` two Twilio-compatible ones, ``primary`` then
  ``backup``, in ``PAGING_SMS_PROVIDERS``.
- ``contact(user, kind, address, delay_minutes=None)``: a verified contact
  method, and a high- and low-urgency rule using it when a delay is given.

``deliver_queued`` (tests/conftest.py) delivers what is queued, as the sweep does.
"""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from paging.models import ContactMethod, NotificationRule
from tests.fakes import Answer, FakeHTTPServer, FakeSMTPServer

TWILIO_CREATED = Answer(201, {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"})


@pytest.fixture
def smtp_server(settings):
    with FakeSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield server


@pytest.fixture
def http_server():
    servers = []

    def start(default: Answer | None = None) -> FakeHTTPServer:
        server = FakeHTTPServer(default).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def slack_api(http_server, settings):
    server = http_server(Answer(200, {"ok": True, "channel": "D024BE91L", "ts": "1700000000.000100"}))
    settings.SLACK_API_URL = server.url
    settings.SLACK_BOT_TOKEN = "xoxb-test-bot-token"
    return server


def provider(name: str, server: FakeHTTPServer, number: str = "+15005550006") -> dict:
    return {"name": name, "base_url": server.url, "account_sid": f"AC{name}", "auth_token": f"{name}-auth-token",
            "from": number}


@pytest.fixture
def sms_providers(http_server, settings):
    """Two providers, tried in order: ``primary`` then ``backup``; both answer 201 until told otherwise."""
    primary, backup = http_server(TWILIO_CREATED), http_server(TWILIO_CREATED)
    settings.PAGING_SMS_PROVIDERS = [provider("primary", primary), provider("backup", backup, "+15005550007")]
    return SimpleNamespace(primary=primary, backup=backup, settings=settings.PAGING_SMS_PROVIDERS)


@pytest.fixture
def contact(db):
    def add(user, kind: str, address: str, *, delay_minutes: int | None = None) -> ContactMethod:
        method = ContactMethod.objects.create(user=user, kind=kind, address=address, verified_at=timezone.now())
        if delay_minutes is not None:
            for urgency in ("high", "low"):
                NotificationRule.objects.create(user=user, urgency=urgency, contact_method=method,
                                                delay_minutes=delay_minutes)
        return method

    return add
