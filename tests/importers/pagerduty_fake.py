"""A local stand-in for PagerDuty's REST API v2, serving the fixtures in ``fixtures/pagerduty/``.

It answers as PagerDuty's documentation shows: ``Authorization: Token token=…``
(401 otherwise), lists paged with ``offset``/``limit``/``more``/``total`` (at
most ``page_limit`` a page, so the client has to page), ``include[]`` honoured
for users' contact methods and services' integrations, one 429 with
``Retry-After`` on the first escalation-policy request, overrides filtered to
``since``/``until``, and a schedule's ``final_schedule.rendered_schedule_entries``
for ``since``/``until``.

The rendered entries are computed here, quarter-hour by quarter-hour, from the layers as
PagerDuty describes them — not with Vigil's code: each step's local reading
in the schedule's zone decides the turn (hand-offs keep their wall-clock time
across DST) and whether a restriction covers it; the highest
``rendering_index`` with someone on wins; an override beats every layer.
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

FIXTURES = Path(__file__).parent / "fixtures" / "pagerduty"
TOKEN = "u+fakeReadOnlyKey1234"


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _covered(restriction: dict, local: datetime) -> bool:
    hh, mm = (int(x) for x in restriction["start_time_of_day"].split(":")[:2])
    minutes = restriction["duration_seconds"] // 60
    of_day = local.hour * 60 + local.minute
    if restriction["type"] == "daily_restriction":
        return (of_day - (hh * 60 + mm)) % 1440 < minutes
    start = (restriction["start_day_of_week"] - 1) * 1440 + hh * 60 + mm
    return (local.weekday() * 1440 + of_day - start) % 10080 < minutes


def _layer_user(layer: dict, at: datetime, local: datetime) -> str | None:
    if at < layer["_start"] or (layer["_end"] and at >= layer["_end"]):
        return None
    if layer["restrictions"] and not any(_covered(r, local) for r in layer["restrictions"]):
        return None
    turn = int((local - layer["_virtual"]).total_seconds() // layer["rotation_turn_length_seconds"])
    return layer["users"][turn % len(layer["users"])]["user"]["id"]


# Every time in the fixtures (and every DST change) falls on a quarter-hour, so stepping by one is exact for
# them, and keeps a 28-day rendering fast.
STEP = timedelta(minutes=15)


def render(schedule: dict, overrides: list, since: datetime, until: datetime) -> list[dict]:
    """PagerDuty's final schedule for [since, until): entries of one user each, gaps left out."""
    zone = ZoneInfo(schedule["time_zone"])
    layers = [{**layer, "_start": _when(layer["start"]), "_end": layer.get("end") and _when(layer["end"]),
               "_virtual": _when(layer["rotation_virtual_start"]).astimezone(zone).replace(tzinfo=None)}
              for layer in sorted(schedule["schedule_layers"], key=lambda layer: -layer["rendering_index"])]
    spans = [(_when(o["start"]), _when(o["end"]), o["user"]["id"]) for o in overrides]
    entries, at = [], since
    while at < until:
        who = None
        for start, end, user in spans:
            if start <= at < end:
                who = user
        if who is None:
            local = at.astimezone(zone).replace(tzinfo=None)
            who = next((u for layer in layers if (u := _layer_user(layer, at, local))), None)
        if who is not None and entries and entries[-1]["user"]["id"] == who and entries[-1]["_end"] == at:
            entries[-1]["_end"] = at + STEP
        elif who is not None:
            entries.append({"_start": at, "_end": at + STEP,
                            "user": {"id": who, "type": "user_reference", "summary": who}})
        at += STEP
    return [{"start": e.pop("_start").isoformat().replace("+00:00", "Z"),
             "end": e.pop("_end").isoformat().replace("+00:00", "Z"), **e} for e in entries]


class FakePagerDuty:
    def __init__(self, fixtures: Path = FIXTURES, *, page_limit: int = 5, rate_limit_once: bool = True):
        self.data = {p.stem: json.loads(p.read_text()) for p in fixtures.glob("*.json")}
        self.page_limit = page_limit
        self.rate_limited = not rate_limit_once
        self.requests: list[tuple[str, str]] = []  # (path with query, Authorization header)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                status, body, headers = fake.answer(self.path, self.headers.get("Authorization", ""))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _page(self, key: str, items: list, query: dict) -> tuple[int, dict, dict]:
        offset = int(query.get("offset", ["0"])[0])
        limit = min(int(query.get("limit", ["25"])[0]), self.page_limit)
        page = items[offset:offset + limit]
        return 200, {key: page, "offset": offset, "limit": limit, "more": offset + limit < len(items),
                     "total": None}, {}

    def answer(self, path: str, authorization: str) -> tuple[int, dict, dict]:
        self.requests.append((path, authorization))
        if authorization != f"Token token={TOKEN}":
            return 401, {"error": {"message": "Authentication failed", "code": 2006}}, {}
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        include = query.get("include[]", [])
        segments = parts.path.strip("/").split("/")
        if segments == ["users"]:
            users = [u if {"contact_methods", "notification_rules"} <= set(include) else
                     {k: v for k, v in u.items() if k not in ("contact_methods", "notification_rules")}
                     for u in self.data["users"]]
            return self._page("users", users, query)
        if segments == ["teams"]:
            return self._page("teams", self.data["teams"], query)
        if len(segments) == 3 and segments[0] == "teams" and segments[2] == "members":
            return self._page("members", self.data["team_members"].get(segments[1], []), query)
        if segments == ["schedules"]:
            listed = [{k: v for k, v in s.items() if k != "schedule_layers"} for s in self.data["schedules"]]
            return self._page("schedules", listed, query)
        if segments[0] == "schedules" and len(segments) in (2, 3):
            schedule = next((s for s in self.data["schedules"] if s["id"] == segments[1]), None)
            if schedule is None:
                return 404, {"error": {"message": "Not Found", "code": 2100}}, {}
            since, until = _when(query["since"][0]), _when(query["until"][0])
            overrides = self.data["overrides"].get(schedule["id"], [])
            if len(segments) == 3:
                return 200, {"overrides": [o for o in overrides if _when(o["end"]) > since
                                           and _when(o["start"]) < until]}, {}
            entries = render(schedule, overrides, since, until)
            return 200, {"schedule": {**schedule, "final_schedule": {
                "name": "Final Schedule", "rendered_schedule_entries": entries,
                "rendered_coverage_percentage": None}}}, {}
        if segments == ["escalation_policies"]:
            if not self.rate_limited:
                self.rate_limited = True
                return 429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}}, {"Retry-After": "1"}
            return self._page("escalation_policies", self.data["escalation_policies"], query)
        if segments == ["services"]:
            services = [s if "integrations" in include else
                        {**s, "integrations": [{"id": i["id"], "type": i["type"] + "_reference", "summary": i["summary"]}
                                               for i in s["integrations"]]} for s in self.data["services"]]
            return self._page("services", services, query)
        return 404, {"error": {"message": "Not Found", "code": 2100}}, {}


NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
