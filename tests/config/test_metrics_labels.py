"""No client can add series to /metrics: every label of the latency histogram comes from a fixed set."""

import re

SERIES = re.compile(r"^vigil_http_request_duration_seconds_count\{([^}]*)\}", re.M)


def _latency_series(client, token) -> set[str]:
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    return set(SERIES.findall(body))


def test_invented_methods_and_paths_add_no_series(client, settings, alice):
    settings.METRICS_TOKEN = "scrape-token"
    client.generic("GET", "/incidents/")  # warm up every label a normal request makes
    before = _latency_series(client, "scrape-token")
    for i in range(40):
        client.generic(f"INVENTED{i}", f"/no/such/path/{i}/")
        client.generic(f"BREW{i}", "/incidents/")
    after = _latency_series(client, "scrape-token")
    new = after - before
    assert not any("INVENTED" in labels or "BREW" in labels or "/no/such" in labels for labels in after)
    assert len(new) <= 4, new  # "other" for each route seen and the scrape itself, never one per request


def test_routes_are_labelled_by_their_url_pattern_name(client, settings, alice):
    settings.METRICS_TOKEN = "scrape-token"
    client.force_login(alice)
    client.get("/incidents/INC-2026-0001/")
    client.get("/incidents/INC-2026-0002/")
    series = _latency_series(client, "scrape-token")
    detail = [labels for labels in series if 'route="incident-detail"' in labels]
    assert detail and all('method="GET"' in labels for labels in detail)
    assert not any("INC-2026" in labels for labels in series)
