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
from incidents.services import assign_role, create_service, transition_incident
from oncall.models import Membership
from oncall.services import create_override, create_policy, create_rotation
from paging.models import ContactMethod
from paging.services.contacts import add_contact_method, add_rule
from postmortems.models import FactorTag
from postmortems.services import create_action_item
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
    # Postmortems: a resolved SEV1's (its timeline events to mark key, an action item, the team's own factor tag:
    # the seeded ones are flushed with the rest), and a resolved SEV3 with none yet, for POST to start one.
    sev1 = transition_incident(incident=make_incident(team=payments, by=alice, sev="SEV1", title="Cards declined"),
                               transition="resolve", by=alice)
    fresh = transition_incident(incident=make_incident(team=payments, by=alice, sev="SEV3", title="Slow search"),
                                transition="resolve", by=alice)
    FactorTag.objects.create(team=payments, name="Acquirer")
    item = create_action_item(incident=sev1, by=alice, title="Alert on certificate expiry", owner=bob)
    postmortems = {"postmortem_id": sev1.postmortem.pk, "action_item_id": item.pk, "pm_number": sev1.number,
                   "fresh_number": fresh.number, "event_ids": list(sev1.postmortem.events.values_list("pk", flat=True))}
    return {
        **postmortems,
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
    if isinstance(value, Raw):
        return value
    if isinstance(value, dict):  # an inline table (JSON's objects are not TOML)
        return "{ " + ", ".join(f"{json.dumps(key)} = {_toml(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)  # a JSON string or number is TOML too


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
        # The team's escalation policy (a service names one of its own team's), a verified method of
        # the person in the path (a rule uses one), addresses that fit the kind they are given for.
        "policies": [world["policy_id"]], "contact_methods": [world["contact_method_id"]],
        "contact_kinds": ["email"], "emails": ["alice.pager@example.com", "alice.home@example.com"],
        "phones": ["+4915187654321", "+14155550100"],
        # Whom to page: a person, by username.
        "page_types": ["user"],
        # A postmortem and its incident (an action item names either: the same one), its timeline's events,
        # the team's factor tag; and a resolved incident without a postmortem yet, to start one.
        "postmortems": [world["postmortem_id"]], "pm_incidents": [world["pm_number"]],
        "key_events": world["event_ids"], "factor_tags": ["Acquirer"], "fresh_incidents": [world["fresh_number"]],
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
            ("body.escalation_policy", "policies"), ("body.contact_method", "contact_methods"),
            *((f"body.severity_map.{s}", "severities") for s in ("critical", "error", "warning", "info")),
            ("query.team", "teams"), ("query.service", "services"), ("query.severity", "severities"),
            ("query.rotation", "rotations"), ("query.incident", "incidents"),
            ("body.postmortem", "postmortems"), ("body.incident", "pm_incidents"), ("body.owner", "users"),
            ("body.key_events[*]", "key_events"), ("body.contributing_factors[*].tag", "factor_tags"),
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
    # A policy's steps name its team's people, rotations and layers: a new one gets real steps, fixed
    # (a step's type and id go together, and a dictionary gives one value at a time); a PATCH sends its
    # own, to check the steps' refusals.
    operation('include-name = "POST /api/v1/escalation-policies/"', {"body.steps": world["steps"]})
    operation('include-name = "DELETE /api/v1/escalation-policies/{id}/"', {"path.id": world["doomed_policy_id"]})
    operation('include-path = "/api/v1/escalation-policies/{id}/"', {"path.id": world["policy_id"]})
    # The person in the path is alice (path.username): her methods and rules.
    operation('include-name = "POST /api/v1/users/{username}/contact-methods/"',
              {"body.kind": drawn_from("contact_kinds"), "body.address": drawn_from("emails")})
    operation('include-name = "DELETE /api/v1/users/{username}/contact-methods/{id}/"',
              {"path.id": world["doomed_method_id"]})
    operation('include-name = "GET /api/v1/users/{username}/contact-methods/{id}/"',
              {"path.id": world["contact_method_id"]})
    # The phone: a new address must be a phone number too (the path decides the kind).
    operation('include-name = "PATCH /api/v1/users/{username}/contact-methods/{id}/"',
              {"path.id": world["phone_id"], "body.address": drawn_from("phones")})
    operation('include-path-regex = "^/api/v1/users/[{]username[}]/contact-methods/[{]id[}]/"',
              {"path.id": world["phone_id"]})
    operation('include-name = "DELETE /api/v1/users/{username}/notification-rules/{id}/"',
              {"path.id": world["doomed_rule_id"]})
    operation('include-path = "/api/v1/users/{username}/notification-rules/{id}/"', {"path.id": world["rule_id"]})
    operation('include-name = "POST /api/v1/incidents/{number}/page/"',
              {"body.targets[*].type": drawn_from("page_types"), "body.targets[*].id": drawn_from("users")})
    # Whether an interval may be set depends on the integration's kind, which the path decides:
    # this one is a heartbeat, which needs an interval.
    operation('include-name = "PATCH /api/v1/integrations/{id}/"', {
        "path.id": ids["changed"], "body.interval_seconds": drawn_from("intervals"),
    })
    operation('include-name = "POST /api/v1/integrations/{id}/rotate-key/"', {"path.id": ids["rekeyed"]})
    operation('include-path = "/api/v1/integrations/webhook/{key}/"', {"path.key": keys["webhook"]})
    # The postmortem of the world (its transitions too) and its action item; a new one for the fresh incident.
    operation('include-path-regex = "^/api/v1/postmortems/[{]id[}]/"', {"path.id": world["postmortem_id"]})
    operation('include-path-regex = "^/api/v1/action-items/[{]id[}]/"', {"path.id": world["action_item_id"]})
    operation('include-name = "POST /api/v1/postmortems/"', {"body.incident": drawn_from("fresh_incidents")})
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
REFERENCES |= {"postmortem", "incident", "owner", "contributing_factors", "attendees", "tracker"}  # postmortems (#16)
UNKNOWN = ("Unknown", "does not exist", "is not a severity", "is not an IANA time zone", "is not a member",
           "Invalid routing key")
# Rules between fields, or between a field and the clock or the data: the fields each involves.
RELATIONS = {"end": {"start", "end"}, "ends_at": {"starts_at", "ends_at", "handoff_at"},
             "started_at": {"started_at"}, "interval_seconds": {"interval_seconds"}}
RELATED = ("after", "future", "before", "heartbeat needs")

POST_POLICY, PATCH_POLICY = "POST /api/v1/escalation-policies/", "PATCH /api/v1/escalation-policies/{id}/"
SERVICE_WRITES = {"POST /api/v1/services/", "PATCH /api/v1/services/{slug}/"}
POST_METHOD = "POST /api/v1/users/{username}/contact-methods/"
PATCH_METHOD = "PATCH /api/v1/users/{username}/contact-methods/{id}/"
POST_RULE = "POST /api/v1/users/{username}/notification-rules/"
# What a step's target names and does not exist, or a target named twice: one list per field, each
# message of which must be one of these.
NO_SUCH_TARGET = (": no user ", "is deactivated", ": no rotation ", "has no rotation named", "has no layer",
                  ": no team ", "the step already pages this")
NOT_AN_ADDRESS = ("is not an e-mail address", "is not a phone number", "neither a Slack member id",
                  "give a full URL", "use an https:// URL", "incoming-webhook URL starts with")
NO_SUCH_PAGE_TARGET = ("No active person has the username", "No team has the slug", "No rotation has the id",
                       "No escalation policy has the id", "Nobody is reached")


def _sent(failure) -> dict:
    """The request's JSON body, if an object."""
    return failure.request.get("body") if isinstance(failure.request.get("body"), dict) else {}


def _each_message(failure, name: str, words: tuple) -> bool:
    messages = failure.body.get(name)
    return isinstance(messages, list) and all(any(w in str(m) for w in words) for m in messages)

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
    # --- Paging (issue #14) ---
    "policy name taken": (
        "A team names each of its escalation policies once: a name the team already uses is a 400 naming the "
        "field. JSON Schema cannot say 'not already used', and the run creates and renames policies as it goes.",
        {"name"}, ("already has a policy named",), lambda f, name: f.operation in (POST_POLICY, PATCH_POLICY),
    ),
    "steps name what exists": (
        "A step's targets name a person, a rotation, a layer of the policy's team or a team (username, id or "
        "name, layer name, slug): one that does not exist is a 400 naming the step and the target, and so is "
        "one target named twice in a step (spelled two ways, such as the policy's own team left out and named: "
        "uniqueItems sees only equal spellings). The schema cannot say 'must exist'. A new policy gets real "
        "steps, fixed, which are real only in the team drawn from the dictionaries; a PATCH sends its own.",
        {"steps"}, NO_SUCH_TARGET,
        lambda f, name: (f.operation == PATCH_POLICY or (f.operation == POST_POLICY and "team" not in f.drawn()))
        and _each_message(f, name, NO_SUCH_TARGET),
    ),
    "the team's policies": (
        "A service's escalation_policy (and each of its per-severity escalation_policies) is the id of a policy "
        "of the service's team, and a severity is named as it exists: any other id or name is a 400 naming the "
        "field. The schema cannot say 'must exist' nor relate an id to the team; the dictionaries give the "
        "team's real policy, for a team drawn from them (or the service's own, when the body names none). "
        "A per-severity map is never drawn whole: a dictionary gives one value at a time, not an object.",
        {"escalation_policy", "escalation_policies"}, ("has no escalation policy", "Unknown severity"),
        lambda f, name: f.operation in SERVICE_WRITES and (
            name not in f.drawn() or ("team" in _sent(f) and "team" not in f.drawn())),
    ),
    "address fits its kind": (
        "A contact method's address must fit its kind (an e-mail address, a phone number in international form, "
        "a Slack member id or incoming-webhook URL, an https:// URL): JSON Schema relates no two values, and on "
        "a PATCH the path decides the kind. The dictionaries give e-mail addresses for kind email and phone "
        "numbers for the path's phone; other values may not fit, and a 400 names the field.",
        {"address"}, NOT_AN_ADDRESS,
        lambda f, name: (f.operation == POST_METHOD and not {"kind", "address"} <= f.drawn())
        or (f.operation == PATCH_METHOD and "address" not in f.drawn()),
    ),
    "address taken": (
        "A person has each address once per kind: one already theirs is a 400 naming the field. JSON Schema "
        "cannot say 'not already used', and the run adds the dictionaries' few addresses as it goes.",
        {"address"}, ("is already one of this person's contact methods",),
        lambda f, name: f.operation in (POST_METHOD, PATCH_METHOD),
    ),
    "at most 20 methods": (
        "A person has at most 20 contact methods (each may be sent a code or a test once a minute, so the cap "
        "caps what one account can send); the run adds methods as it goes, and JSON Schema counts no rows.",
        {"non_field_errors"}, ("at most 20 contact methods",), lambda f, name: f.operation == POST_METHOD,
    ),
    "secret code": (
        "A verification code is a secret sent to the address, so no generated code is right: a wrong, expired "
        "or void code, or none sent yet, is a 400 saying which (in non_field_errors: the error body's own "
        "'code' is its slug).",
        {"non_field_errors"}, ("That code is wrong", "No code is waiting", "has expired", "no longer works",
                               "Enter the 6-digit code"),
        lambda f, name: f.operation == "POST /api/v1/users/{username}/contact-methods/{id}/verify/",
    ),
    "rule exists": (
        "A person has a rule (urgency, method, delay) once: the same again is a 400 saying so. Everyone starts "
        "with 'at once' rules for both urgencies on their account e-mail, the dictionaries' method, and the run "
        "adds rules as it goes; JSON Schema cannot say 'not already used'.",
        {"non_field_errors"}, ("That rule exists already",), lambda f, name: f.operation == POST_RULE,
    ),
    "the person's verified method": (
        "A rule uses one of the person's own contact methods, verified: an id not drawn from the dictionaries "
        "(which give her verified account e-mail) may be nobody's, someone else's, or one not verified yet, "
        "and a 400 names the field. The schema can say none of these.",
        {"contact_method"}, ("No contact method", "only verified methods page"),
        lambda f, name: f.operation == POST_RULE and name not in f.drawn(),
    ),
    "page whom exists": (
        "A page names a person, a team, a rotation or a policy (username, slug or id): one that does not exist, "
        "or a team, rotation or policy with nobody to reach now, is a 400 naming the target. The schema cannot "
        "say 'must exist' or 'on call now'; the dictionaries page real people by username.",
        {"targets"}, NO_SUCH_PAGE_TARGET,
        lambda f, name: f.operation == "POST /api/v1/incidents/{number}/page/" and not {"type", "id"} <= f.drawn(),
    ),
    "Slack id taken": (
        "A Slack member id links one person: an id another person has is a 400. JSON Schema cannot say 'not "
        "already used', and the run sets ids as it goes. (The error is under __all__, not slack_user_id: Django "
        "reports a conditional unique constraint so; reported to the owner of oncall.services.people.)",
        {"__all__"}, ("Another person already has this Slack member id",),
        lambda f, name: f.operation in ("POST /api/v1/users/", "PATCH /api/v1/users/{username}/"),
    ),
    # --- Communications (issue #15) ---
    "an update has text": (
        "An update needs text: its body, or a template to draft it from. The schema can mark neither one "
        "required (either will do), so a request with neither, or a blank body and no template, is a 400 "
        "naming body.",
        {"body"}, ("An update needs some text",),
        lambda f, name: f.operation == "POST /api/v1/incidents/{number}/updates/",
    ),
    "the next update lies ahead": (
        "A promised next update is due after now and within 7 days, and a resolved incident (or a `resolved` "
        "update) promises none: JSON Schema knows neither the clock nor the incident's state. A 400 names "
        "next_update_at.",
        {"next_update_at"}, ("must be due in the future", "owes no next update"),
        lambda f, name: f.operation == "POST /api/v1/incidents/{number}/updates/",
    ),
    "only resolving summarises": (
        "resolution_summary goes with the resolve transition only; the path names the transition, which the "
        "request's schema (one for all seven) cannot see. A 400 names the field.",
        {"resolution_summary"}, ("Only resolving takes a resolution summary",),
        lambda f, name: f.operation == "POST /api/v1/incidents/{number}/{transition}/",
    ),
    # --- Postmortems (issue #16) ---
    "key events of this postmortem": (
        "key_events names events of the postmortem's own timeline by id: an id that is not one of them is a 400 "
        "naming the field. The schema cannot say 'must exist'; the dictionaries give the world postmortem's ids.",
        {"key_events"}, ("No timeline event",), lambda f, name: name not in f.drawn(),
    ),
    "a meeting lies ahead": (
        "A review meeting is scheduled in the future: JSON Schema knows no clock. The coverage phase sends its own "
        "past instants; a 400 names starts_at.",
        {"starts_at"}, ("has passed: pick a time in the future",),
        lambda f, name: f.operation == "POST /api/v1/postmortems/{id}/meeting/" and name not in f.drawn(),
    ),
    "a new meeting needs a time and people": (
        "POST .../meeting/ schedules a meeting or changes the one scheduled, where a field left out keeps its "
        "value: starts_at and attendees are required only when none is scheduled, which the path's postmortem "
        "decides and no schema of the request can see. A 400 names the missing fields.",
        {"starts_at", "attendees"}, ("required to schedule the meeting",),
        lambda f, name: f.operation == "POST /api/v1/postmortems/{id}/meeting/",
    ),
    # --- Reports (issue #17) ---
    "report periods are read in a zone": (
        "since and until are an ISO 8601 date or date-time, with or without an offset (read in tz then), and tz "
        "an IANA zone: no one JSON Schema format covers a date, a local and an offset date-time, and the zone "
        "database is no enum. A 400 names the parameter.",
        {"since", "until", "tz"}, ("Give an ISO 8601", "Unknown time zone"),
        lambda f, name: f.operation in ("GET /api/v1/reports/metrics/", "GET /api/v1/reports/metrics.csv"),
    ),
    "won't do needs a reason": (
        "Moving an action item to wont_do needs a wont_do_reason, unless it is wont_do already: the path's item "
        "decides, which no schema of the request can see. A 400 names wont_do_reason.",
        {"wont_do_reason"}, ("Say why it won't be done",),
        lambda f, name: f.operation == "PATCH /api/v1/action-items/{id}/",
    ),
}
# Not listed: the 429 a second code or test within a minute gets (send-code/, test/). It is documented,
# and Schemathesis counts a documented 401, 403, 404, 409 or 429 as a valid request accepted.


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
