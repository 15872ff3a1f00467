"""Observability: /metrics (Prometheus metrics of Vigil itself), /healthz and request latency.

Counters and histograms live in each process. When PROMETHEUS_MULTIPROC_DIR
is set, /metrics adds up every worker's files (prometheus_client's
multiprocess mode). config/gunicorn.conf.py sets it for every gunicorn
worker. Incidents open by severity and team are read from the database at
scrape time, so they are right whichever process answers.
"""

import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from incidents.queries import open_incidents_by_severity_and_team
from oncall.queries import coverage_gap_seconds

REQUEST_LATENCY = Histogram(
    "vigil_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class _OpenIncidents:
    def collect(self):
        family = GaugeMetricFamily(
            "vigil_incidents_open", "Incidents not yet resolved, by severity and team.", labels=["severity", "team"]
        )
        for row in open_incidents_by_severity_and_team():
            family.add_metric([row["severity__name"], row["team__slug"]], row["n"])
        yield family


class _CoverageGaps:
    def collect(self):
        family = GaugeMetricFamily(
            "vigil_oncall_coverage_gap_seconds",
            "Seconds in the next 4 weeks when a rotation layer has nobody on call, by team and layer.",
            labels=["team", "layer"],
        )
        for (team, layer), seconds in sorted(coverage_gap_seconds().items()):
            family.add_metric([team, layer], seconds)
        yield family


def _authorised(request) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    token = settings.METRICS_TOKEN
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    if settings.METRICS_ALLOWED_NETWORKS and _from_allowed_network(request.META.get("REMOTE_ADDR", "")):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _from_allowed_network(address: str) -> bool:
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request):
    """Prometheus text format: `Authorization: Bearer $METRICS_TOKEN`, an allowed network, or a staff session."""
    if not _authorised(request):
        response = HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(_OpenIncidents())
    database.register(_CoverageGaps())
    body = generate_latest(process_registry) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


# Every label takes its values from a fixed set, so no client can add series: a method
# outside this set counts as "other", a route is its URL pattern's name.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(request) -> str:
    """The URL pattern's name (``incident-detail``), "unnamed" for an anonymous one, "unmatched" for none."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


def method_label(method: str | None) -> str:
    return method if method in METHODS else "other"


class RequestLatencyMiddleware:
    """Observes every request's duration under its route name, method and status (bounded labels).

    Add "config.observability.RequestLatencyMiddleware" near the top of MIDDLEWARE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(
            route=route_label(request), method=method_label(request.method), status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


def healthz(request):
    """A liveness probe, and the framework's ceiling in benchmarks."""
    return HttpResponse("ok", content_type="text/plain")
