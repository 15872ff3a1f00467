"""The OpenAPI schema tells the truth, as Schemathesis judges it against the live server.

Clients generate code from ``/api/schema/``. Schemathesis reads it, sends
requests it calls valid and invalid to every operation, and checks the
answers: no 5xx (``not_a_server_error``), every status code and content type
documented (``status_code_conformance``, ``content_type_conformance``), every
body matching its schema (``response_schema_conformance``), invalid requests
refused (``negative_data_rejection``) and valid ones accepted
(``positive_data_acceptance``).

Valid in the schema's sense is not always valid in the data's: a reference to a
team that does not exist is well-formed, and Vigil answers it with a 400 naming
the field (API.md; the schema cannot say "must exist", and an ``enum`` of the
rows that exist today would be a lie tomorrow). So the run is given real
values (``schemathesis.toml``, written below): path parameters name real
objects, and reference fields draw, in valid requests only, from dictionaries of
real slugs, usernames and ids. Invalid requests still get the generated
values. The few rules the schema cannot state at all (``EXCEPTIONS``) are
listed with their reason and matched narrowly, as are bugs found here in code
another change owns (``KNOWN_BUGS``, each with a strict xfail test); everything
else must pass.

PostgreSQL only: the fuzzing reaches text and instants only PostgreSQL refuses.
"""

import base64
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from alerts.services import create_integration
from incidents.services import assign_role, create_service
from oncall.models import Membership
from oncall.services import create_override, create_policy, create_rotation
from paging.models import ContactMethod
from paging.services.contacts import add_contact_method, add_rule
from tests.factories import (
    MembershipFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    ensure_severities,
    make_incident,
)

pytestmark = pytest.mark.process

CHECKS = ["not_a_server_error", "status_code_conformance", "response_schema_conformance",
          "content_type_conformance", "negative_data_rejection", "positive_data_acceptance"]
SEED = 1
MAX_EXAMPLES = 6  # per operation in the fuzzing phase: the whole run takes about three minutes on two cores
# The venv's own, beside this Python (installed with it), else one on the PATH.
SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")


def build_world() -> dict:
    """Real objects for the run to reach, and the values that name them."""
    ensure_severities()  # transactional tests flush the migration's rows
    sam = UserFactory(username="sam", full_name="Sam Staff", is_staff=True, is_superuser=True)
    payments = TeamFactory(slug="payments", name="Payments", timezone="Europe/Berlin")
    search = TeamFactory(slug="search", name="Search", timezone="America/New_York")
    people = {}
    for username, team, role in [("alice", payments, Membership.Role.LEAD), ("bob", payments, Membership.Role.MEMBER),
                                 ("dave", payments, Membership.Role.MEMBER), ("charlie", search, Membership.Role.LEAD)]:
        people[username] = UserFactory(username=username)
        MembershipFactory(team=team, user=people[username], role=role)
    alice, bob = people["alice"], people["bob"]
    checkout = ServiceFactory(slug="checkout", name="Checkout API", team=payments)
    create_service(slug="scratch", name="Scratch", team=payments, by=sam)
    incident = make_incident(team=payments, by=alice, services=[checkout])
    role = assign_role(incident=incident, role="scribe", user=bob, by=alice)
    rotation = create_rotation(team=payments, name="Primary", participants=[alice, bob], shift_length="P7D",
                               handoff_at=datetime(2026, 3, 2, 9), timezone="Europe/Berlin", by=alice)
    soon = datetime.now(UTC) + timedelta(days=1)
    overrides = [create_override(rotation=rotation, user=bob, start=soon, end=soon + timedelta(hours=8), by=alice)
                 for _ in range(2)]
    # A policy of the team (its primary layer, then its leads), and one to delete.
    steps = [{"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads"}]},
             {"delay_minutes": 30, "targets": [{"type": "user", "id": "bob"}]}]
    policy, doomed_policy = (create_policy(team=payments, name=name, steps=steps, by=alice)
                             for name in ("Payments default", "Doomed"))
    # Alice's methods: her account e-mail (every person has it, verified, with "at once" rules), an
    # unverified phone to change, verify and send codes and tests to, and one to delete; a rule to delete.
    email = ContactMethod.objects.get(user=alice, kind="email", address=alice.email)
    phone = add_contact_method(user=alice, kind="sms", address="+4915112345678", by=alice)
    doomed_method = add_contact_method(user=alice, kind="slack", address="U012AB3CD", by=alice)
    doomed_rule = add_rule(user=alice, urgency="low", contact_method=email, delay_minutes=30, by=alice)
    integrations = {}
    for name, kind, extra in [("events", "events_v2", {}), ("alertmanager", "alertmanager", {}),
                              ("webhook", "webhook", {}), ("heartbeat", "heartbeat", {"interval_seconds": 300}),
                              ("rekeyed", "events_v2", {}), ("changed", "heartbeat", {"interval_seconds": 300})]:
        integration, key = create_integration(service=checkout, kind=kind, name=name, by=alice, **extra)
        integrations[name] = (integration.pk, key)
    return {
        "token": Token.objects.create(user=sam).key,
        "team": payments.slug, "service": checkout.slug, "scratch_service": "scratch",
        "number": incident.number, "role_id": role.pk, "rotation_id": rotation.pk,
        "override_id": overrides[0].pk, "doomed_override_id": overrides[1].pk,
        "users": ["alice", "bob"], "doomed_member": "dave", "integrations": integrations,
        "policy_id": policy.pk, "doomed_policy_id": doomed_policy.pk, "steps": steps,
        "contact_method_id": email.pk, "phone_id": phone.pk, "doomed_method_id": doomed_method.pk,
        "rule_id": email.rules.filter(delay_minutes=0).first().pk, "doomed_rule_id": doomed_rule.pk,
    }


class Raw(str):
    """TOML written as is."""


def _toml(value) -> str:
    return value if isinstance(value, Raw) else json.dumps(value)  # a JSON string, number or list is TOML too


def drawn_from(dictionary: str) -> Raw:
    """A binding: valid cases take one of the dictionary's values, invalid ones keep their own."""
    return Raw(f'{{ dictionary = "{dictionary}" }}')


def write_config(path: Path, world: dict) -> Path:
    """schemathesis.toml: real path parameters, and real references for the valid requests."""
    ids = {name: pk for name, (pk, _) in world["integrations"].items()}
    keys = {name: key for name, (_, key) in world["integrations"].items()}
    dictionaries = {
        "teams": [world["team"]], "services": [world["service"]], "users": world["users"],
        "severities": ["SEV1", "SEV2", "SEV3", "SEV4"], "rotations": [world["rotation_id"]],
        "incidents": [world["number"]], "routing_keys": [keys["events"]],
        # The schema can say an instant's format and years, not "in the past" or "before end".
        "past": ["2020-01-01T00:00:00Z", "2024-06-30T12:00:00+02:00"],
        "later_start": ["2031-01-01T00:00:00Z"], "later_end": ["2031-01-02T00:00:00Z", "2031-01-08T00:00:00+01:00"],
        # A shift lasts an hour to a year (a sum the pattern cannot bound); a date must exist.
        "shift_lengths": ["P7D", "P1W", "PT12H"], "local_times": ["2026-03-02T09:00"],
        # A decimal with at most two places: as text, or as a number (JSON Schema's multipleOf
        # is unreliable with binary floating point, so the schema cannot say it of numbers).
        "money": ["1200.50", "0", 99],
        "intervals": [60, 300],
        "time_zones": ["Europe/Berlin", "UTC", "America/New_York"],
    }
    lines = [
        f"seed = {SEED}",
        "continue-on-failure = true",
        f"headers = {{ Authorization = {_toml('Token ' + world['token'])} }}",
        "",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        # Vigil refuses a NUL anywhere in its input with a 400 naming where (PostgreSQL cannot
        # store it; test_unstorable_input): OpenAPI 3.0 cannot say "no NUL" of an open object's keys.
        "allow-x00 = false",
        'database = "none"',
        "",
        "[cache]",
        "enabled = false",
        "",
        # Only the values below: none captured from responses or guessed from error messages, which
        # would stand in for the dictionaries' real references.
        *(line for phase in ("examples", "coverage", "fuzzing") for line in
          (f"[phases.{phase}]", "extra-data-sources = { responses = false }")),
        "error-feedback = { enabled = false }",
        "",
        "[dictionaries]",
        *(f"{name} = {{ values = {_toml(values)} }}" for name, values in dictionaries.items()),
        "",
        "[parameters]",
        f'"path.number" = {_toml(world["number"])}',
        f'"path.slug" = {_toml(world["team"])}',
        f'"path.username" = {_toml(world["users"][0])}',
        # Drawn in valid requests only: a reference must name an object that exists.
        *(f'"{key}" = {drawn_from(name)}' for key, name in [
            ("body.team", "teams"), ("body.service", "services"), ("body.services[*]", "services"),
            ("body.severity", "severities"), ("body.user", "users"), ("body.rotation", "rotations"),
            ("body.routing_key", "routing_keys"), ("body.started_at", "past"),
            ("body.start", "later_start"), ("body.starts_at", "later_start"),
            ("body.end", "later_end"), ("body.ends_at", "later_end"),
            ("body.shift_length", "shift_lengths"), ("body.handoff_at", "local_times"),
            ("body.revenue_impact", "money"), ("body.timezone", "time_zones"),
            *((f"body.severity_map.{s}", "severities") for s in ("critical", "error", "warning", "info")),
            ("query.team", "teams"), ("query.service", "services"), ("query.severity", "severities"),
            ("query.rotation", "rotations"), ("query.incident", "incidents"),
        ]),
        # A rotation's participants are members of its team, each once: drawn one by one, names
        # would repeat. Fixed, in every case: an invalid one whose only mutation was here becomes
        # valid, its other values not drawn (expected_because tells them apart).
        f'"body.participants" = {_toml(world["users"])}',
    ]

    def operation(selector: str, parameters: dict, headers: dict | None = None, extra: str = "") -> None:
        lines.extend(["", "[[operations]]", selector])
        if headers:
            lines.append("headers = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in headers.items()) + " }")
        if extra:
            lines.append(extra)
        lines.append("parameters = { " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in parameters.items()) + " }")

    # The first entry that matches an operation applies. A PATCH may rename the service: the scratch
    # one, renamed to itself (fuzzing) or to whatever (coverage, which sends its own values).
    operation('include-name = "PATCH /api/v1/services/{slug}/"',
              {"path.slug": world["scratch_service"], "body.slug": world["scratch_service"]})
    operation('include-path-regex = "^/api/v1/services/"', {"path.slug": world["service"]})
    # Each DELETE names an object of its own, which the first one that succeeds removes: the rest are 404s.
    operation('include-name = "DELETE /api/v1/teams/{slug}/members/{username}/"',
              {"path.username": world["doomed_member"]})
    operation('include-name = "DELETE /api/v1/incidents/{number}/roles/{id}/"', {"path.id": world["role_id"]})
    operation('include-path-regex = "^/api/v1/rotations/"', {
        "path.id": world["rotation_id"],
        "query.start": drawn_from("later_start"), "query.end": drawn_from("later_end"),
    })
    operation('include-name = "GET /api/v1/overrides/{id}/"', {"path.id": world["override_id"]})
    operation('include-name = "DELETE /api/v1/overrides/{id}/"', {"path.id": world["doomed_override_id"]})
    operation('include-name = "GET /api/v1/integrations/{id}/"', {"path.id": ids["events"]})
    # Whether an interval may be set depends on the integration's kind, which the path decides:
    # this one is a heartbeat, which needs an interval.
    operation('include-name = "PATCH /api/v1/integrations/{id}/"', {
        "path.id": ids["changed"], "body.interval_seconds": drawn_from("intervals"),
    })
    operation('include-name = "POST /api/v1/integrations/{id}/rotate-key/"', {"path.id": ids["rekeyed"]})
    operation('include-path = "/api/v1/integrations/webhook/{key}/"', {"path.key": keys["webhook"]})
    operation('include-path = "/api/v1/heartbeats/{key}/"', {"path.key": keys["heartbeat"]})
    operation('include-path = "/api/v1/integrations/alertmanager/"', {},
              headers={"Authorization": f"Bearer {keys['alertmanager']}"})
    # The same view and schema as /v2/enqueue: its coverage cases would be the same ones again.
    operation('include-path = "/api/v1/events/"', {}, extra="phases = { coverage = { enabled = false } }")
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Failure:
    phase: str
    operation: str
    code: str
    title: str
    status: int | None
    body: object
    request: dict

    def drawn(self) -> set[str]:
        """The parameters whose values came from the dictionaries (real references)."""
        meta = self.request.get("meta") or {}
        return {draw["parameter_name"] for draw in meta.get("dictionary_draws", [])}

    def field_errors(self) -> set[str]:
        if not isinstance(self.body, dict):
            return set()
        return set(self.body) - {"detail", "code", "status", "message"}


# What must exist: the object a reference names, a zone of the time zone database, an integration key.
REFERENCES = {"team", "service", "services", "severity", "user", "participants", "rotation", "severity_map",
              "timezone", "routing_key"}
UNKNOWN = ("Unknown", "does not exist", "is not a severity", "is not an IANA time zone", "is not a member",
           "Invalid routing key")
# Rules between fields, or between a field and the clock or the data: the fields each involves.
RELATIONS = {"end": {"start", "end"}, "ends_at": {"starts_at", "ends_at", "handoff_at"},
             "started_at": {"started_at"}, "interval_seconds": {"interval_seconds"}}
RELATED = ("after", "future", "before", "heartbeat needs")

# The rules the schema cannot state, each with its reason, as (reason, fields, words in the message,
# whether it applies to a failure). Schemathesis draws real values from the dictionaries for valid
# cases of the fuzzing phase; the coverage and example phases send boundary values and examples of
# their own, and an invalid case whose only mutation the config overwrote counts as valid with the
# rest of its values random. Only values not drawn from the dictionaries are excused.
EXCEPTIONS = {
    "taken": (
        "A slug, username or rotation name already taken is a 400 naming the field: JSON Schema cannot say "
        "'not already used', and the run creates objects as it goes.",
        {"slug", "username", "name"}, ("already exists", "already has a rotation named"), lambda f, name: True,
    ),
    "must exist": (
        "A reference not drawn from the dictionaries names nothing: Vigil answers a 400 naming the field, as "
        "API.md says. The schema cannot say 'must exist', and an enum of today's rows would be a lie tomorrow.",
        REFERENCES | {"errors"}, UNKNOWN, lambda f, name: name not in f.drawn() or name == "errors",
    ),
    "relations": (
        "An end after its start, an impact start in the past and before the declaration, a heartbeat's interval "
        "(which its kind decides, and on a PATCH the path decides the kind): JSON Schema relates no two values. "
        "The dictionaries keep them related; other values may not be, and a 400 names the field.",
        set(RELATIONS), RELATED, lambda f, name: not RELATIONS[name] <= f.drawn(),
    ),
    "parsed": (
        "A shift lasts an hour to a year (weeks, days and hours add up: no pattern bounds the sum) and a local "
        "hand-off's date must exist (no 39th of June); the dictionaries give real ones, other values may not be.",
        {"shift_length", "handoff_at"}, ("too long", "at least one hour", "is not a date-time"),
        lambda f, name: name not in f.drawn(),
    ),
    "decimal places": (
        "A decimal takes a JSON number with at most two decimal places; JSON Schema's multipleOf cannot say "
        "that of binary floating point (0.07 is not a multiple of 0.01 there). The dictionaries give good ones.",
        {"revenue_impact"}, ("decimal places", "digits in total"), lambda f, name: name not in f.drawn(),
    ),
    "URL": (
        "Django's URLValidator wants a dotted host with a top-level domain of two letters or more (or an IP "
        "address, or localhost); JSON Schema's uri format is looser, and no pattern says Django's rules exactly.",
        {"runbook_url"}, ("Enter a valid URL.",), lambda f, name: True,
    ),
}


# Bugs found by this test in code another change owns; each has a strict xfail regression test that
# fails loudly once the bug is fixed, so that its entry here goes too.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
KNOWN_BUGS: dict = {}
INGEST = {"POST /v2/enqueue", "POST /api/v1/events/", "POST /api/v1/integrations/alertmanager/",
          "POST /api/v1/integrations/webhook/{key}/"}


def expected_because(failure: Failure) -> list[str]:
    """The exceptions that explain a failure: every field it was refused for has one, or none does."""
    bugs = [name for name, (_, matches) in KNOWN_BUGS.items() if matches(failure)]
    if bugs:
        return bugs
    if failure.code != "ST202" or failure.status != 400 or not isinstance(failure.body, dict):
        return []
    # DRF's shape names fields; the ingest endpoints' list their errors.
    errors = {name: failure.body[name] for name in failure.field_errors()}
    if "errors" in errors:
        errors = {"errors": failure.body["errors"]}
    reasons = []
    for name, messages in errors.items():
        text = json.dumps(messages)
        reason = next((key for key, (_, fields, words, applies) in EXCEPTIONS.items()
                       if name in fields and any(w in text for w in words) and applies(failure, name)), None)
        if reason is None:
            return []
        reasons.append(reason)
    return reasons


def read_failures(report: Path) -> list[Failure]:
    failures = []
    for line in report.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished or finished["status"] != "failure":
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder["checks"].items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                info = check["failure_info"]["failure"]
                response = (recorder["interactions"].get(case_id) or {}).get("response") or {}
                failures.append(Failure(
                    phase=finished["phase"], operation=info.get("operation", recorder["label"]), code=info.get("code", "?"),
                    title=info.get("title", ""), status=response.get("status_code"),
                    body=_body(response), request=recorder["cases"].get(case_id, {}).get("value", {}),
                ))
    return failures


def _body(response: dict):
    content = response.get("content") or {}
    raw = base64.b64decode(content["$base64"]) if "$base64" in content else (content.get("string") or "").encode()
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:500]


METHODS = {"get", "post", "put", "patch", "delete"}


def client_schema(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/api/schema/?format=json", timeout=30) as response:  # noqa: S310
        return json.load(response)


def run_schemathesis(url: str, config: Path, report: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCHEMATHESIS, "--config-file", str(config), "run", url,
         "--checks", ",".join(CHECKS), "--workers", "1", "--report", "ndjson", "--report-ndjson-path", str(report)],
        capture_output=True, text=True, cwd=config.parent, timeout=600, check=False,
    )


@pytest.mark.skipif(SCHEMATHESIS is None, reason="schemathesis is not installed")
def test_every_operation_answers_as_its_schema_says(on_postgres, live_server, transactional_db, settings, tmp_path):
    # The live server runs in this process, so the settings fixture reaches it.
    settings.API_THROTTLE_USER = settings.API_THROTTLE_ANON = "1000000/minute"
    world = build_world()
    config = write_config(tmp_path / "schemathesis.toml", world)
    report = tmp_path / "report.ndjson"
    result = run_schemathesis(f"{live_server.url}/api/schema/", config, report)
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]

    failures = read_failures(report)
    unexpected = [f for f in failures if not expected_because(f)]
    assert not unexpected, "\n\n".join(
        f"{f.code} {f.title}: {f.operation} answered {f.status}\n  request: {json.dumps(f.request)[:600]}\n"
        f"  response: {json.dumps(f.body)[:600]}" for f in unexpected
    ) + "\n\n" + result.stdout[-4000:]
    # Every operation of the schema was run.
    operations = sum(method in METHODS for item in client_schema(live_server.url)["paths"].values() for method in item)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert tested and int(tested.group(1)) == operations, result.stdout[-2000:]
    cases = re.search(r"Test cases:\s+(.*)", result.stdout)
    excused = Counter(reason for failure in failures for reason in set(expected_because(failure)))
    print(f"{operations} operations; {cases.group(1) if cases else '?'}; excused: {dict(excused)}")
