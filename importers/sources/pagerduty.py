"""PagerDuty (REST API v2): fetch, save/load, and map to neutral records.

Reads ``/users`` (with contact methods and notification rules), ``/teams`` and
their ``/members``, ``/schedules`` (each in full, with its rendered final
schedule for the fidelity window), their ``/overrides`` from now on,
``/escalation_policies`` and ``/services`` (with integrations); lists page with
``offset``/``limit``/``more``.

Mapping (what Vigil cannot express becomes an ``Issue``, never a silent drop):

- A schedule becomes one Vigil layer of its (first) team, named after it, with
  one rotation per schedule layer: ``rotation_virtual_start`` (in the
  schedule's zone) is the first hand-off, ``rotation_turn_length_seconds`` the
  shift length (whole hours, days or weeks), the users its participants.
- A higher layer hides the layers below it wherever it covers: each rotation's
  restrictions are its own (daily or weekly) windows minus those of every
  layer above it, so the Vigil layer has one person at a time, as PagerDuty's
  final schedule does (``importers.weekly``).
- An override is written on each rotation of the schedule, so whoever it names
  is the layer's one person for its time.
- Escalation rules become steps (``escalation_delay_in_minutes``, targets user →
  person, schedule → its layer), ``num_loops`` the repeat count.
"""

import json
import re
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

from django.utils.text import slugify

from .. import records as r
from .. import weekly
from ..http import Client, SourceError

NAME = "pagerduty"
DEFAULT_URL = "https://api.pagerduty.com"
WINDOW = timedelta(days=28)  # the fidelity check's horizon
OVERRIDES_AHEAD = timedelta(days=366)
PAGE = 100  # PagerDuty's largest page
FILES = ("users", "teams", "team_members", "schedules", "overrides", "escalation_policies", "services")
WHERE_TOKENS_COME_FROM = ("give a REST API key (PagerDuty: Integrations → API Access Keys, read-only is enough), "
              "not an integration's routing key.")


# --- Fetch ---------------------------------------------------------------------------------------

def _all(client: Client, path: str, key: str, params: list | None = None) -> list:
    """Every item of a list endpoint, page by page (``offset``/``limit`` until ``more`` is false)."""
    items, offset = [], 0
    while True:
        body = client.get(path, [*(params or []), ("offset", offset), ("limit", PAGE)])
        if not isinstance(body.get(key), list):
            raise SourceError(f"PagerDuty answered {path} without a {key!r} list: is --url the REST API?")
        items += body[key]
        if not body.get("more") or not body[key]:
            return items
        offset += len(body[key])


def fetch(*, token: str, url: str, now: datetime, sleep=None) -> dict:
    """Read everything the import needs; the answers as they came, de-paged, with a manifest."""
    since, until = now, now + WINDOW
    headers = {"Authorization": f"Token token={token}", "Accept": "application/vnd.pagerduty+json;version=2"}
    extra = {"sleep": sleep} if sleep else {}
    with Client(base_url=url, headers=headers, what="PagerDuty", token_hint=WHERE_TOKENS_COME_FROM, **extra) as client:
        raw = {"manifest": {"source": NAME, "url": url, "since": since.isoformat(), "until": until.isoformat()}}
        raw["users"] = _all(client, "/users", "users",
                            [("include[]", "contact_methods"), ("include[]", "notification_rules")])
        raw["teams"] = _all(client, "/teams", "teams")
        raw["team_members"] = {t["id"]: _all(client, f"/teams/{t['id']}/members", "members") for t in raw["teams"]}
        window = [("since", since.isoformat()), ("until", until.isoformat()), ("time_zone", "UTC")]
        raw["schedules"] = [client.get(f"/schedules/{s['id']}", window)["schedule"]
                            for s in _all(client, "/schedules", "schedules")]
        ahead = [("since", since.isoformat()), ("until", (now + OVERRIDES_AHEAD).isoformat())]
        raw["overrides"] = {s["id"]: client.get(f"/schedules/{s['id']}/overrides", ahead).get("overrides", [])
                            for s in raw["schedules"]}
        raw["escalation_policies"] = _all(client, "/escalation_policies", "escalation_policies")
        raw["services"] = _all(client, "/services", "services", [("include[]", "integrations")])
        raw["manifest"]["rate_limit_waits"] = client.waited
    return raw


def save(raw: dict, directory: Path) -> None:
    """Write ``raw`` as one JSON file per kind (plus manifest.json): what ``--from-file`` reads back."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("manifest", *FILES):
        (directory / f"{name}.json").write_text(json.dumps(raw[name], indent=2, sort_keys=True) + "\n")


def load(directory: Path) -> dict:
    raw = {}
    for name in ("manifest", *FILES):
        path = directory / f"{name}.json"
        try:
            raw[name] = json.loads(path.read_text())
        except FileNotFoundError:
            raise SourceError(f"{path} is missing: give a directory written by --save.") from None
        except ValueError as exc:
            raise SourceError(f"{path} is not JSON ({exc}).") from None
    if raw["manifest"].get("source") != NAME:
        raise SourceError(f"{directory} holds an export of {raw['manifest'].get('source')!r}, not PagerDuty.")
    return raw


# --- Map -----------------------------------------------------------------------------------------

def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _zone(name: str | None) -> str | None:
    return name if name in zoneinfo.available_timezones() else None


def _shift_length(seconds: int) -> str | None:
    for unit, size in (("W", 604800), ("D", 86400)):
        if seconds % size == 0:
            return f"P{seconds // size}{unit}"
    return f"PT{seconds // 3600}H" if seconds % 3600 == 0 and seconds > 0 else None


_TIME_OF_DAY = re.compile(r"^(\d\d):(\d\d)(?::(\d\d))?")


def _mask(restrictions: list, issue) -> int:
    """The weekly mask of a layer's restrictions (``FULL`` without any)."""
    if not restrictions:
        return weekly.FULL
    mask = 0
    for item in restrictions:
        match = _TIME_OF_DAY.match(item.get("start_time_of_day") or "")
        if not match:
            issue(f"restriction {item!r} has no start_time_of_day; left out")
            continue
        minute = int(match[1]) * 60 + int(match[2])
        if int(match[3] or 0) or item.get("duration_seconds", 0) % 60:
            issue("a restriction given to the second is rounded down to the minute")
        minutes = int(item.get("duration_seconds", 0)) // 60
        if item.get("type") == "weekly_restriction":
            mask |= weekly.span((int(item.get("start_day_of_week", 1)) - 1) * weekly.DAY + minute, minutes)
        else:  # daily_restriction
            for day in range(7):
                mask |= weekly.span(day * weekly.DAY + minute, minutes)
    return mask


def _contact(cm: dict, person: str) -> tuple[r.Contact | None, r.Issue | None]:
    kind = {"email_contact_method": "email", "sms_contact_method": "sms", "phone_contact_method": "voice"}.get(
        cm.get("type", "").removesuffix("_reference"))
    label = (cm.get("label") or cm.get("summary") or "")[:60]
    if kind is None:
        return None, r.Issue("contact method", cm.get("id", ""), f"{person}: {label or cm.get('type')}",
                             "Vigil has no push notifications to a mobile app; it pages by e-mail, SMS, voice, "
                             "Slack or a webhook")
    address = cm.get("address", "")
    if kind != "email":
        address = f"+{cm.get('country_code', '')}{address}"
    return r.Contact(cm["id"], kind, address, label), None


def to_export(raw: dict) -> r.Export:
    """Map PagerDuty's answers to neutral records; everything left out is an Issue saying why."""
    since, until = _when(raw["manifest"]["since"]), _when(raw["manifest"]["until"])
    out = r.Export(source=NAME, since=since, until=until)
    issue = out.issues.append

    for user in raw["users"]:
        zone = _zone(user.get("time_zone"))
        if zone is None:
            issue(r.Issue("person", user["id"], user.get("name", ""),
                          f"time zone {user.get('time_zone')!r} is not an IANA name; UTC used"))
        person = r.Person(user["id"], user.get("name") or user.get("email", ""), user.get("email", ""), zone or "UTC")
        methods = {}
        for cm in user.get("contact_methods") or []:
            contact, problem = _contact(cm, person.name)
            methods[cm.get("id")] = contact or cm
            if contact:
                person.contacts.append(contact)
            else:
                issue(problem)
        for rule in user.get("notification_rules") or []:
            method_id = (rule.get("contact_method") or {}).get("id")
            if isinstance(methods.get(method_id), r.Contact):
                person.rules.append(r.Rule(rule.get("id", ""), rule.get("urgency") or "high",
                                           int(rule.get("start_delay_in_minutes") or 0), method_id))
            else:
                issue(r.Issue("notification rule", rule.get("id", ""), f"{person.name}: {rule.get('urgency')} "
                              f"urgency after {rule.get('start_delay_in_minutes')} min",
                              "its contact method did not come over (see above)"))
        out.people.append(person)

    schedule_zone = {}
    for schedule in raw["schedules"]:
        for team in schedule.get("teams") or []:
            schedule_zone.setdefault(team["id"], schedule.get("time_zone"))
    roles = {"manager": "manager"}  # responder and observer are members
    for team in raw["teams"]:
        members = [(m["user"]["id"], roles.get(m.get("role"), "member")) for m in raw["team_members"].get(team["id"], [])]
        out.teams.append(r.Team(team["id"], team.get("name") or team["id"], team.get("description") or "",
                                _zone(schedule_zone.get(team["id"])) or "UTC", members))
    team_ids = {t.source_id for t in out.teams}

    for schedule in raw["schedules"]:
        _schedule(schedule, raw["overrides"].get(schedule["id"], []), since, team_ids, out)

    for policy in raw["escalation_policies"]:
        _policy(policy, team_ids, out)

    policy_team = {p.source_id: p.team_id for p in out.policies}
    for service in raw["services"]:
        _service(service, team_ids, policy_team, out)
    return out


def _first_team(obj: dict, team_ids: set) -> str | None:
    return next((t["id"] for t in obj.get("teams") or [] if t["id"] in team_ids), None)


def _schedule(schedule: dict, overrides: list, since: datetime, team_ids: set, out: r.Export) -> None:
    name = schedule.get("name") or schedule["id"]
    team = _first_team(schedule, team_ids)
    if team is None:
        out.issues.append(r.Issue("schedule", schedule["id"], name, "belongs to no PagerDuty team; Vigil's "
                                  "rotations belong to a team: add it to one in PagerDuty and import again"))
        return
    zone = _zone(schedule.get("time_zone"))
    if zone is None:
        out.issues.append(r.Issue("schedule", schedule["id"], name,
                                  f"time zone {schedule.get('time_zone')!r} is not an IANA name"))
        return
    result = r.Schedule(schedule["id"], name, team, slugify(name)[:60] or "schedule")
    layers = schedule.get("schedule_layers") or []
    if any("rendering_index" in layer for layer in layers):
        layers = sorted(layers, key=lambda layer: -layer.get("rendering_index", 0))  # highest on top
    covered = 0
    for layer in layers:
        layer_name = f"{name} · {layer.get('name') or layer['id']}"[:120]

        def issue(reason, layer=layer, layer_name=layer_name):
            out.issues.append(r.Issue("rotation", layer["id"], layer_name, reason))

        if layer.get("end") and _when(layer["end"]) <= since:
            issue("ended before now; not imported")
            continue
        if not layer.get("users"):
            issue("has nobody in it; not imported")
            continue
        own = _mask(layer.get("restrictions") or [], issue)
        mask, covered = own & ~covered, covered | own
        length = _shift_length(int(layer.get("rotation_turn_length_seconds") or 0))
        if length is None:
            issue(f"a turn of {layer.get('rotation_turn_length_seconds')} s is not whole hours; Vigil's shifts "
                  "last whole hours, days or weeks")
            continue
        try:
            restrictions = weekly.to_restrictions(mask)
        except ValueError:
            issue("the layers above it cover all of its time: nobody from it is ever on call")
            continue
        if layer.get("start") and _when(layer["start"]) > since:
            issue(f"starts on {layer['start']}; Vigil's rotation runs from its first hand-off, "
                  f"{layer['rotation_virtual_start']} (see the fidelity report)")
        result.rotations.append(r.Rotation(
            source_id=layer["id"], name=layer_name, timezone=zone, shift_length=length,
            handoff_at=_when(layer["rotation_virtual_start"]).astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None),
            participants=[u["user"]["id"] for u in layer["users"]], restrictions=restrictions,
            ends_at=_when(layer["end"]) if layer.get("end") else None,
        ))
    for override in overrides:
        result.overrides.append(r.Override(override["id"], override["user"]["id"], _when(override["start"]),
                                           _when(override["end"])))
    for entry in (schedule.get("final_schedule") or {}).get("rendered_schedule_entries") or []:
        if entry.get("user"):
            result.rendered.append(r.Entry(_when(entry["start"]), _when(entry["end"]), entry["user"]["id"]))
    out.schedules.append(result)


def _policy(policy: dict, team_ids: set, out: r.Export) -> None:
    name = policy.get("name") or policy["id"]
    team = _first_team(policy, team_ids)
    if team is None:
        out.issues.append(r.Issue("policy", policy["id"], name, "belongs to no PagerDuty team; Vigil's policies "
                                  "belong to a team: add it to one in PagerDuty and import again"))
        return
    steps = []
    for n, rule in enumerate(policy.get("escalation_rules") or [], 1):
        targets = []
        for target in rule.get("targets") or []:
            kind = target.get("type", "").removesuffix("_reference")
            if kind in ("user", "schedule"):
                targets.append(("person" if kind == "user" else "schedule", target["id"]))
            else:
                out.issues.append(r.Issue("policy", policy["id"], f"{name}, rule {n}",
                                          f"target type {target.get('type')!r} has no Vigil equivalent; left out"))
        if rule.get("escalation_rule_assignment_strategy", {}).get("type") == "round_robin":
            out.issues.append(r.Issue("policy", policy["id"], f"{name}, rule {n}", "round-robin assignment: "
                                      "Vigil pages every target of a step at once"))
        delay = int(rule.get("escalation_delay_in_minutes") or 1)
        if not 1 <= delay <= 1440:
            out.issues.append(r.Issue("policy", policy["id"], f"{name}, rule {n}",
                                      f"a delay of {delay} min is outside Vigil's 1–1440; {min(max(delay, 1), 1440)} used"))
            delay = min(max(delay, 1), 1440)
        if targets:
            steps.append(r.Step(delay, targets))
        else:
            out.issues.append(r.Issue("policy", policy["id"], f"{name}, rule {n}", "no target Vigil can page; "
                                      "the step is left out"))
    loops = int(policy.get("num_loops") or 0)
    if loops > 9:
        out.issues.append(r.Issue("policy", policy["id"], name, f"repeats {loops} times; Vigil repeats at most 9"))
    if policy.get("on_call_handoff_notifications") == "always":
        out.issues.append(r.Issue("policy", policy["id"], name, "hand-off notifications 'always': Vigil e-mails "
                                  "every hand-off of a rotation to the people handing over, whatever the policy"))
    if not steps:
        out.issues.append(r.Issue("policy", policy["id"], name, "no step Vigil can page; not imported"))
        return
    out.policies.append(r.Policy(policy["id"], team, name, steps, min(loops, 9), policy.get("description") or ""))


INTEGRATION_KINDS = {
    "events_api_v2_inbound_integration": "events_v2",
    "generic_events_api_inbound_integration": "events_v2",
}


def _service(service: dict, team_ids: set, policy_team: dict, out: r.Export) -> None:
    name = service.get("name") or service["id"]
    policy = (service.get("escalation_policy") or {}).get("id")
    team = _first_team(service, team_ids) or policy_team.get(policy)
    if team is None:
        out.issues.append(r.Issue("service", service["id"], name, "neither it nor its escalation policy belongs "
                                  "to a team; Vigil's services belong to a team"))
        return
    if policy is not None and policy_team.get(policy) != team:
        out.issues.append(r.Issue("service", service["id"], name, "its escalation policy is another team's (or "
                                  "was not imported); it uses its Vigil team's default policy"))
        policy = None
    result = r.Service(service["id"], team, name, service.get("description") or "", policy)
    for integration in service.get("integrations") or []:
        label = integration.get("name") or integration.get("summary") or integration["id"]
        kind = INTEGRATION_KINDS.get(integration.get("type", ""))
        if kind is None:
            out.issues.append(r.Issue("integration", integration["id"], f"{name}: {label}",
                                      f"{integration.get('type')!r}: Vigil takes PagerDuty Events v2, Alertmanager, "
                                      "generic JSON webhooks and heartbeats; point this sender at one by hand"))
            continue
        if integration.get("type") == "generic_events_api_inbound_integration":
            out.issues.append(r.Issue("integration", integration["id"], f"{name}: {label}",
                                      "an Events API v1 sender: Vigil takes v2 (/v2/enqueue); switch the sender "
                                      "to v2 when changing its URL"))
        result.integrations.append(r.Integration(integration["id"], label[:120], kind))
    out.services.append(result)
