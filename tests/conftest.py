"""Fixtures shared by all tests: named people and teams, an API client, no network.

The people, as in healthchecks' tests:
- alice leads the payments team;
- bob is a member of payments;
- charlie is in the search team only: an outsider to payments;
- sam is staff (an administrator).
"""

import ipaddress
import socket
import subprocess

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alerts.services import create_integration
from oncall.models import Membership
from paging.models import Notification
from paging.services.delivery import deliver_due
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            ip = ipaddress.ip_address(socket.gethostbyname(host) if host != "localhost" else "127.0.0.1")
        except (OSError, ValueError):
            ip = None
        if ip is not None and not ip.is_loopback:
            raise OSError(f"Tests may not reach the network (tried {address!r}); use a local fake server.")
    return _real_connect(self, address)


# The tiers: `make test` runs what starts no process; `make test-all` adds the tests marked
# `process` (make run, gunicorn, Alertmanager, redis-server, manage.py, a live server) and `e2e`.
OUTSIDE_THE_FAST_TIER = ("process", "e2e")


def _refuse_process(args, *rest, **kwargs):
    raise RuntimeError(f"This test starts a process ({args!r}): mark it @pytest.mark.process, "
                       "so that it runs in make test-all and not in make test.")


@pytest.fixture(autouse=True)
def _block_network(request, monkeypatch):
    """Only loopback: PostgreSQL, Redis and local fake servers are allowed.

    And the fast tier starts no process and no live server: such a test must say so with a marker.
    """
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    if not any(request.node.get_closest_marker(name) for name in OUTSIDE_THE_FAST_TIER):
        if "live_server" in request.fixturenames:
            pytest.fail("This test uses the live server: mark it @pytest.mark.process (or e2e).")
        monkeypatch.setattr(subprocess, "Popen", _refuse_process)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache holds rate-limit and throttle counts: like the database, each test starts without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def payments(db):
    return TeamFactory(slug="payments", name="Payments", timezone="Europe/Berlin")


@pytest.fixture
def search_team(db):
    return TeamFactory(slug="search", name="Search", timezone="America/New_York")


@pytest.fixture
def alice(payments):
    user = UserFactory(username="alice", full_name="Alice Archer", timezone="Europe/Berlin")
    MembershipFactory(team=payments, user=user, role=Membership.Role.LEAD)
    return user


@pytest.fixture
def bob(payments):
    user = UserFactory(username="bob", full_name="Bob Baker")
    MembershipFactory(team=payments, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def charlie(search_team):
    user = UserFactory(username="charlie", full_name="Charlie Chen", timezone="America/New_York")
    MembershipFactory(team=search_team, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", full_name="Sam Staff", is_staff=True, is_superuser=True)


@pytest.fixture
def checkout(payments):
    return ServiceFactory(slug="checkout", name="Checkout API", team=payments,
                          runbook="# Checkout\n\n1. Check the **error rate**.")


@pytest.fixture
def api():
    """An API client; call ``api.as_user(user)`` to authenticate with a real token."""
    client = APIClient()

    def as_user(user):
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def deliver_queued(db):
    """Deliver queued notifications as the paging sweep does; returns how many were sent.

    Every message to a person (a page, a hand-off, a swap e-mail) is a
    notification whose delivery task is queued when the transaction commits,
    and a test's transaction never commits: a test expecting a message (in
    ``mail.outbox``, at a fake server) calls ``deliver_queued()`` first, which
    delivers everything queued however far ahead it is due, or
    ``deliver_queued(now=...)``, which delivers only what is due by then.
    """
    def deliver(now=None) -> int:
        if now is None:
            latest = Notification.objects.filter(status=Notification.Status.QUEUED).aggregate(
                at=Max("next_attempt_at"))["at"]
            now = max(latest, timezone.now()) if latest else timezone.now()
        return deliver_due(now=now)

    return deliver


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil")


def pytest_configure(config):
    # Hashing a password with the production hasher costs ~0.3 s; tests make hundreds of users.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# One integration of each pushing kind on the checkout service; each carries its
# one-time key on ``.key``, the webhook also its URL on ``.url``.

def _integration(service, kind: str, name: str, by):
    integration, key = create_integration(service=service, kind=kind, name=name, by=by)
    integration.key = key
    return integration


@pytest.fixture
def events(checkout, alice):
    """An Events v2 integration."""
    return _integration(checkout, "events_v2", "Prometheus", alice)


@pytest.fixture
def am(checkout, alice):
    """An Alertmanager integration."""
    return _integration(checkout, "alertmanager", "Alertmanager", alice)


@pytest.fixture
def hook(checkout, alice):
    """A generic webhook integration; its endpoint is on ``.url``."""
    integration = _integration(checkout, "webhook", "Cron jobs", alice)
    integration.url = f"/api/v1/integrations/webhook/{integration.key}/"
    return integration


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests that commit (live servers, browsers, processes) run last, as Django orders them.

    pytest-django sorts them last, but pytest then regroups tests by their
    session-scoped parametrized fixtures (Playwright's browser), which put the
    browser tests in the middle. A committing test ends by emptying every
    table, the severities the migrations seed included, so a test after it
    that relies on them would fail. The sort is stable: the order within each
    group is kept.
    """
    def commits(item) -> bool:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        return bool((marker is not None and marker.kwargs.get("transaction"))
                    or "transactional_db" in fixtures or "live_server" in fixtures)

    items.sort(key=commits)
