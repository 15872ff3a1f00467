"""Every route, fed garbage, answers without a 500.

The standard is "bad input gets a clear error, never a 500". Tests per
feature check the messages; this one guards the whole surface: it walks the
URL configuration, fills each route's parameters with real objects and with
nonsense, and sends each the same battery of malformed requests (query
parameters out of range, forms with wrong values, JSON of the wrong shape,
NaN, nesting past the parser, a NUL character). A new route is covered the
day it is added. The admin is walked apart, model by model, as staff. Each
request runs in a savepoint that is rolled back, so none changes what the
next one finds.
Run it on PostgreSQL too: a NUL or a year-0 date only fails there.
"""

import itertools
import json
from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alerts.services import create_integration
from incidents.services import create_maintenance_window, transition_incident
from oncall.services import calendar_token_for, create_override, create_rotation, request_swap
from postmortems.services import create_action_item
from postmortems.services.trackers import create_tracker
from tests.factories import ensure_severities, make_incident

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
NUL = "a%00b"

QUERY = ("?page=abc&page_size=-5&start=9999-12-31T00:00:00Z&end=0001-01-01T00:00:00Z&at=0001-01-01T00:00:00Z"
         "&from=0001-01&months=%C2%B2&rotation=%C2%B2&integration=%C2%B2&team=nobody&service=nobody&status=bogus&severity=SEV9"
         "&created_after=2026-13-45&created_before=yesterday&q=" + "x" * 3000)
FORM = {
    "action": "create", "name": "x" * 3000, "title": "", "kind": "bogus", "severity": "SEV9", "team": "nobody",
    "services": ["nobody"], "start": "0001-01-01T00:00", "end": "9999-12-31T23:59", "starts_at": "0001-01-01T00:00",
    "ends_at": "9999-12-31T23:59", "started_at": "0001-01-01T00:00", "handoff_at": "9999-12-31T23:00",
    "effective_from": "0001-01-01T00:00", "shift_length": "P500000W", "timezone": "Mars/Olympus",
    "participants": "nobody", "user": "nobody", "recipient": "nobody", "rotation": HUGE, "window": "²",
    "severity_map": "[1]", "interval_seconds": "-1", "grace_seconds": "x", "rate_per_second": "0", "burst": HUGE,
    "next": "javascript:alert(1)", "text": "rotations: 5", "body": "", "state": "bogus", "role": "bogus",
    "note": "x" * 20000, "layer": "", "restrictions": "{", "enabled": "maybe", "public": "2",
}
WRONG_TYPES = {
    "title": 5, "severity": ["SEV1"], "team": {"slug": "payments"}, "services": "checkout", "category": 7,
    "started_at": "0001-01-01T00:00:00+01:00", "description": None, "users_affected": -1, "revenue_impact": "NaN",
    "start": "0001-01-01T00:00:00Z", "end": 5, "at": [], "rotation": "x", "user": 5, "participants": 5,
    "shift_length": "P500000W", "handoff_at": "9999-12-31T23:00", "timezone": 5, "restrictions": "daily",
    "ends_at": "9999-12-31T23:59:59-05:00", "layer": None, "name": ["x"], "kind": {"a": 1},
    "severity_map": {"critical": ["SEV1"]}, "interval_seconds": -1, "grace_seconds": "x", "rate_per_second": 10**30,
    "burst": 0, "service": ["checkout"], "starts_at": True, "reason": {"a": 1}, "body": 5, "state": None,
    "public": "yes", "role": 5, "note": {"a": 1}, "summary": 5, "routing_key": 5, "event_action": 5, "payload": 5,
    "alerts": {"a": 1}, "status": 5, "details": [], "email": 5, "username": "", "full_name": 5, "password": 5,
}
JSON_BODIES = ["[", "[]", '"text"', '{"a": NaN}', "[" * 5000 + "]" * 5000, '{"a": "x\\u0000y", "b\\ud800": 1}',
               json.dumps(WRONG_TYPES)]


@pytest.fixture
def world(payments, search_team, alice, bob, charlie, checkout):
    ensure_severities()
    incident = make_incident(team=payments, by=alice, services=[checkout])
    now = timezone.now()
    rotation = create_rotation(team=payments, name="Primary", participants=[alice, bob], shift_length="P7D",
                               handoff_at=datetime(2026, 3, 2, 9), timezone="Europe/Berlin", by=alice)
    override = create_override(rotation=rotation, user=bob, start=now + timedelta(days=1),
                               end=now + timedelta(days=2), by=alice)
    swap = request_swap(rotation=rotation, requester=bob, recipient=alice, start=now + timedelta(days=3),
                        end=now + timedelta(days=4))
    window = create_maintenance_window(service=checkout, starts_at=now + timedelta(days=9),
                                       ends_at=now + timedelta(days=10), by=alice)
    keys = []
    for kind in ("events_v2", "alertmanager", "webhook", "heartbeat"):
        extra = {"interval_seconds": 60} if kind == "heartbeat" else {}
        _, key = create_integration(service=checkout, kind=kind, name=kind, by=alice, **extra)
        keys.append(key)
    ids = sorted({rotation.pk, override.pk, swap.pk, window.pk, 1})
    # A resolved SEV1 with its postmortem and an action item, so their pages get the garbage too.
    sev1 = transition_incident(incident=make_incident(team=payments, by=alice, sev="SEV1"), transition="resolve",
                               by=alice)
    item = create_action_item(incident=sev1, by=alice, title="Alert on expiry", owner=bob)
    # An issue tracker nobody listens at (a send that got through would fail fast, never leave the machine).
    tracker = create_tracker(team=payments, by=alice, name="Repo", kind="github", base_url="http://127.0.0.1:9",
                             project="acme/payments", token="walker-token")
    ids = sorted({*ids, sev1.postmortem.pk, item.pk, tracker.pk})
    return {
        "number": [incident.number, "INC-2026-9999", NUL],
        "slug": ["payments", "checkout", NUL],
        "username": ["alice", NUL],
        "key": [keys[2], keys[3], NUL],
        "token": [calendar_token_for(user=alice).token, calendar_token_for(team=payments).token, NUL],
        "transition": ["acknowledge", "resolve", "bogus"],
        "decision": ["accept", "decline", "cancel", "bogus"],
        "int": [*map(str, ids), HUGE],
        "other": ["1", NUL],
    }


def _routes(resolver=None, prefix=""):
    """(route template, parameter names) of every URL pattern, the admin's excepted."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, list(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else []


def _paths(route: str, values: dict) -> list[str]:
    """Concrete paths for a route: each parameter by its name (or converter), a few combinations at most."""
    if route.startswith("^") or "(?P" in route:  # a regex route (none of ours); skip it rather than guess
        return []
    parts = [p.split(">")[0] for p in route.split("<")[1:]]
    names, choices = [], []
    for part in parts:
        converter, _, name = part.rpartition(":")
        names.append(name)
        key = name if name in values else ("int" if converter == "int" else "other")
        choices.append(values[key])
    paths = []
    for combo in itertools.islice(itertools.product(*choices), 8):
        path = route
        for part, value in zip(parts, combo, strict=True):
            path = path.replace(f"<{part}>", value, 1)
        paths.append("/" + path.lstrip("^").rstrip("$"))
    return paths


def test_no_route_answers_garbage_with_a_500(world, alice, client, settings):
    # Thousands of requests from one caller: throttled, most would be a 429 and reach no view.
    settings.API_THROTTLE_ANON = settings.API_THROTTLE_USER = "1000000/minute"
    settings.SLACK_SIGNING_SECRET = "walker"  # unset, the Slack endpoint answers 503 "set SLACK_SIGNING_SECRET" by design
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    failures, sent, routes = [], 0, 0
    for route, _ in _routes():
        if route.startswith(("accounts/", "api/schema", "api/docs")):
            continue  # Django's login pages and the generated schema take no input of ours
        paths = _paths(route, world)
        routes += bool(paths)
        for path in paths:
            requests = [("get", path, {}), ("get", path + QUERY, {}), ("post", path, {"data": FORM})]
            requests += [(method, path, {"data": body, "content_type": "application/json"})
                         for method in ("post", "patch") for body in JSON_BODIES]
            requests.append(("delete", path, {}))
            for method, url, kwargs in requests:
                with transaction.atomic():
                    response = getattr(client, method)(url, **kwargs)
                    transaction.set_rollback(True)
                sent += 1
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url[:120]} {kwargs.get('data', '')!s:.80} → "
                                    f"{response.status_code}")
    print(f"{sent} requests over {routes} routes")
    assert routes >= 60 and sent >= 1500, (routes, sent)  # the walk reached the product, not a handful of URLs
    assert failures == []


def test_no_admin_page_answers_garbage_with_a_500(world, sam):
    """The admin's add, change and delete forms of every model, sent the same nonsense, and its lists."""
    client = Client(raise_request_exception=False)
    client.force_login(sam)
    failures, sent = [], 0
    dates_everywhere = {name: "0001-01-01" for name in FORM}
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        requests = [("get", reverse(f"{prefix}_changelist") + "?o=abc&p=zz&q=x&all=&unknown=1", None)]
        urls = [reverse(f"{prefix}_add")]
        obj = model._default_manager.first()
        if obj is not None:
            urls += [reverse(f"{prefix}_change", args=[obj.pk]), reverse(f"{prefix}_delete", args=[obj.pk])]
        requests += [("post", url, data) for url in urls for data in (FORM, {}, dates_everywhere)]
        for method, url, data in requests:
            with transaction.atomic():
                response = getattr(client, method)(url, data) if data is not None else client.get(url)
                transaction.set_rollback(True)
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} → {response.status_code}")
    assert sent >= 100, sent
    assert failures == []


HUGE_ID = "9" * 23  # past a bigint: SQLite's driver refused to send it (OverflowError, a 500)


@pytest.mark.parametrize("path", [
    f"/api/v1/alerts/?integration={HUGE_ID}", f"/api/v1/overrides/?rotation={HUGE_ID}",
    f"/api/v1/integrations/{HUGE_ID}/", f"/api/v1/rotations/{HUGE_ID}/", f"/api/v1/overrides/{HUGE_ID}/",
    f"/api/v1/rotations/{'9' * 19}/shifts/",
])
def test_an_id_too_large_for_any_row_is_a_4xx(api, alice, path):
    response = api.as_user(alice).get(path)
    assert response.status_code in (200, 400, 404), response.content
    if response.status_code == 200:
        assert response.json()["count"] == 0


def test_a_page_with_an_id_too_large_is_a_404(client, alice, payments):
    from tests.factories import make_incident

    incident = make_incident(team=payments, by=alice)
    client.force_login(alice)
    assert client.post(f"/incidents/{incident.number}/roles/{HUGE_ID}/remove/").status_code == 404
    assert client.get(f"/services/checkout/integrations/{HUGE_ID}/").status_code == 404
