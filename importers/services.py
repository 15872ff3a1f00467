"""Plan and apply an import: one walk over the neutral records, which writes only when asked.

``run_import(export, apply=False)`` is the dry run: it reads what Vigil has and
says, per kind, what would be created, matched (an existing person by e-mail,
an existing team by slug, a contact method by address) or skipped, and why.
``apply=True`` takes the same walk and writes through the apps' own services
(``create_user``, ``create_team``, ``set_membership``, ``create_rotation``,
``create_override``, ``create_policy``, ``create_service``,
``create_integration``, ``add_contact_method``, ``add_rule``), so permissions,
validation and history apply as for any other change. People, their contact
methods and notification rules are one transaction; each team, with its members, rotations, overrides, policies,
services and integrations, is one more: a team Vigil refuses is rolled back
whole, named in the errors, and the other teams still come over.

Idempotent: every object written is recorded in ``ImportedObject`` under the
source's id, and a later run finds it there and writes nothing for it.
Imported people are created active (Vigil pages only active people, and only
they may be team members or escalation targets) but without a password and not
invited: they cannot sign in until staff invite them.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone as djtz
from django.utils.text import slugify

from alerts.models import Integration
from alerts.services import create_integration
from incidents.models import Service
from incidents.services.catalog import create_service
from oncall.models import EscalationPolicy, Membership, Override, Rotation, Team, User
from oncall.services import (
    create_override,
    create_policy,
    create_rotation,
    create_team,
    create_user,
    set_membership,
)
from paging.models import ContactMethod, NotificationRule
from paging.services.contacts import MAX_DELAY_MINUTES, add_contact_method, add_rule, clean_address

from . import records as r
from .models import ImportedObject

KINDS = ("person", "contact method", "notification rule", "team", "member", "rotation", "override", "policy", "service", "integration")
ACTIONS = ("create", "match", "exists", "skip")
NEW = "(new)"  # stands for an object a dry run would create


class Planned(str):
    """A person a dry run would create, by the username they would get."""


def _name(user) -> str:
    return str(user) if isinstance(user, Planned) else user.username


@dataclass
class Line:
    kind: str
    action: str
    name: str
    detail: str = ""


@dataclass
class NewKey:
    service: str
    integration: str
    kind: str
    key: str


@dataclass
class Report:
    source: str
    applied: bool
    lines: list[Line] = field(default_factory=list)
    issues: list[r.Issue] = field(default_factory=list)
    keys: list[NewKey] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Counter]:
        out = {kind: Counter() for kind in KINDS}
        for line in self.lines:
            out[line.kind][line.action] += 1
        return out

    def add(self, kind: str, action: str, name: str, detail: str = "") -> None:
        self.lines.append(Line(kind, action, name, detail))


class Ledger:
    """The ``ImportedObject`` rows of one source: what earlier runs made of each source id."""

    def __init__(self, source: str, write: bool):
        self.source, self.write = source, write
        self.rows = {(o.kind, o.source_id): o.object_id for o in ImportedObject.objects.filter(source=source)}

    def get(self, kind: str, source_id: str, model):
        pk = self.rows.get((kind, source_id))
        return None if pk is None else model.objects.filter(pk=pk).first()

    def record(self, kind: str, source_id: str, obj) -> None:
        if not self.write:
            return
        ImportedObject.objects.update_or_create(
            source=self.source, kind=kind, source_id=source_id,
            defaults={"content_type": ContentType.objects.get_for_model(obj), "object_id": obj.pk})
        self.rows[(kind, source_id)] = obj.pk


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {m}" if k != "__all__" else m for k, ms in exc.message_dict.items() for m in ms)
        return "; ".join(exc.messages)
    return str(exc)


def _free(model, field_name: str, base: str, limit: int, taken: set) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first not used by a row of ``model`` nor in ``taken``."""
    base = base[:limit] or "imported"
    candidate, n = base, 1
    while candidate in taken or model.objects.filter(**{field_name: candidate}).exists():
        n += 1
        candidate = f"{base[:limit - len(str(n)) - 1]}-{n}"
    taken.add(candidate)
    return candidate


def run_import(export: r.Export, *, apply: bool = False, by: User | None = None, invite: bool = False,
               now: datetime | None = None) -> Report:
    """Walk ``export``: report what would change (dry run), or change it (``apply``). See the module doc."""
    now = now or djtz.now()
    report = Report(export.source, apply)
    report.issues = list(export.issues)
    ledger = Ledger(export.source, apply)
    with transaction.atomic():
        people = _people(export, ledger, report, by=by, invite=invite, apply=apply)
    for team in export.teams:
        before = len(report.lines), len(report.issues), len(report.keys)
        try:
            with transaction.atomic():
                _team(team, export, people, ledger, report, by=by, apply=apply, now=now)
        except (ValidationError, PermissionDenied) as exc:
            # Nothing of the team was written: neither its lines nor the keys of its integrations stand.
            del report.lines[before[0]:], report.issues[before[1]:], report.keys[before[2]:]
            ledger.rows = {(o.kind, o.source_id): o.object_id
                           for o in ImportedObject.objects.filter(source=export.source)}
            report.add("team", "skip", team.name, "refused by Vigil, nothing of it written")
            report.errors.append(f"Team {team.name}: {_messages(exc)} Nothing of this team was written; fix it "
                                 "and run the import again.")
    return report


def _people(export, ledger, report, *, by, invite, apply) -> dict:
    people, usernames = {}, set()
    for person in export.people:
        user = ledger.get("person", person.source_id, User)
        if user is not None:
            report.add("person", "exists", user.username, f"imported before from {person.email}")
        elif person.email and (user := User.objects.filter(email__iexact=person.email).order_by("pk").first()):
            report.add("person", "match", user.username, f"has the e-mail address {person.email}")
            ledger.record("person", person.source_id, user)
        else:
            username = _free(User, "username", slugify(person.email.partition("@")[0] or person.name), 150, usernames)
            report.add("person", "create", username, f"{person.name} <{person.email}>, {person.timezone}, "
                       + ("invited" if invite else "no password until staff invite them"))
            user = Planned(username)
            if apply:
                user = create_user(username=username, email=person.email, full_name=person.name[:200],
                                   timezone=person.timezone, by=by, invite=invite)
                ledger.record("person", person.source_id, user)
        people[person.source_id] = user
        methods = {contact.source_id: _contact(contact, person, user, ledger, report, by=by, apply=apply)
                   for contact in person.contacts}
        said = {c.source_id: f"{c.kind} {c.address}" for c in person.contacts}
        for rule in person.rules:
            _rule(rule, person, user, methods.get(rule.contact_id), said.get(rule.contact_id, ""), ledger, report,
                  by=by, apply=apply)
    return people


def _rule(rule, person, user, method, said, ledger, report, *, by, apply) -> None:
    """A rule comes over when Vigil may use its method now (verified: the account e-mail, or one verified
    before); otherwise it is listed, to add once the person has verified the method."""
    delay = min(rule.delay_minutes, MAX_DELAY_MINUTES)
    name = f"{person.name}: {rule.urgency} urgency, after {delay} min"
    if method is None or rule.urgency not in ("high", "low"):
        report.issues.append(r.Issue("notification rule", rule.source_id, name, "its contact method or urgency "
                                     "did not come over"))
        return
    verified = method == "account e-mail" or (isinstance(method, ContactMethod) and method.verified)
    how = "the account e-mail" if method == "account e-mail" else said
    if not verified:
        report.issues.append(r.Issue("notification rule", rule.source_id, f"{name}, {how}", "Vigil uses a rule "
                                     "only with a verified contact method: once the person has verified it "
                                     "(Profile → Contact methods), they add this rule there"))
        return
    if method == "account e-mail" and delay == 0:
        report.add("notification rule", "match", f"{name}, {how}", "Vigil gives every new person this one")
        return
    if isinstance(method, ContactMethod):
        if ledger.get("notification rule", rule.source_id, NotificationRule) is not None:
            report.add("notification rule", "exists", f"{name}, {how}")
            return
        same = NotificationRule.objects.filter(user=user, urgency=rule.urgency, contact_method=method,
                                               delay_minutes=delay).first()
        if same is not None:
            report.add("notification rule", "match", f"{name}, {how}", "they have this rule already")
            ledger.record("notification rule", rule.source_id, same)
            return
    report.add("notification rule", "create", f"{name}, {how}")
    if apply:
        made = add_rule(user=user, urgency=rule.urgency, contact_method=method, delay_minutes=delay, by=by)
        ledger.record("notification rule", rule.source_id, made)


def _contact(contact, person, user, ledger, report, *, by, apply):
    """The Vigil contact method (or, in a dry run, "account e-mail" or NEW), or None if it cannot come over."""
    name = f"{person.name}: {contact.kind} {contact.address}"
    if not isinstance(user, Planned) and (method := ledger.get("contact method", contact.source_id, ContactMethod)):
        report.add("contact method", "exists", name)
        return method
    try:
        address = clean_address(contact.kind, contact.address)
    except ValidationError as exc:
        report.issues.append(r.Issue("contact method", contact.source_id, name, _messages(exc)))
        return None
    if isinstance(user, Planned) and contact.kind == ContactMethod.Kind.EMAIL and address.lower() == person.email.lower():
        report.add("contact method", "match", name, "their account e-mail, which Vigil adds itself")
        return "account e-mail"
    # E-mail addresses are compared case-insensitively: Amara@Example.com and amara@example.com are one inbox.
    lookup = {"address__iexact" if contact.kind == ContactMethod.Kind.EMAIL else "address": address}
    existing = None if isinstance(user, Planned) else ContactMethod.objects.filter(user=user, kind=contact.kind,
                                                                                   **lookup).first()
    if existing is not None:
        report.add("contact method", "match", name, "already one of theirs")
        ledger.record("contact method", contact.source_id, existing)
        return existing
    report.add("contact method", "create", name, "unverified until they verify it")
    if not apply:
        return NEW
    method = add_contact_method(user=user, kind=contact.kind, address=address, label=contact.label, by=by)
    ledger.record("contact method", contact.source_id, method)
    return method


def _team(team, export, people, ledger, report, *, by, apply, now) -> None:
    obj = ledger.get("team", team.source_id, Team)
    if obj is not None:
        report.add("team", "exists", obj.slug)
    elif obj := Team.objects.filter(slug=slugify(team.name)[:60]).first():
        report.add("team", "match", obj.slug, f"Vigil's team {obj.name} has the slug of {team.name}")
        ledger.record("team", team.source_id, obj)
    else:
        slug = _free(Team, "slug", slugify(team.name)[:60], 60, set())
        report.add("team", "create", slug, f"{team.name}, {team.timezone}")
        obj = NEW
        if apply:
            obj = create_team(slug=slug, name=team.name[:120], timezone=team.timezone,
                              description=team.description, by=by)
            ledger.record("team", team.source_id, obj)
    schedules = [s for s in export.schedules if s.team_id == team.source_id]
    # Everyone on its rotations and overrides must be a member (Vigil's rule); PagerDuty does not ask that.
    wanted = dict(team.members)
    for schedule in schedules:
        for person_id in [p for rot in schedule.rotations for p in rot.participants] + \
                         [o.person_id for o in schedule.overrides]:
            wanted.setdefault(person_id, "member")
    for person_id, role in wanted.items():
        user = people.get(person_id)
        if user is None:
            report.issues.append(r.Issue("member", person_id, team.name, "not among PagerDuty's users; left out"))
            continue
        label = f"{team.name}: {_name(user)}"
        if obj is not NEW and not isinstance(user, Planned) and Membership.objects.filter(team=obj, user=user).exists():
            report.add("member", "exists", label)
            continue
        report.add("member", "create", label, role if person_id in dict(team.members) else
                   f"{role} (on one of its schedules)")
        if apply:
            set_membership(team=obj, user=user, role=role, by=by)
    layers = {}
    for schedule in schedules:
        layers[schedule.source_id] = schedule.layer
        rotations = [_rotation(rot, schedule.layer, obj, people, ledger, report, by=by, apply=apply)
                     for rot in schedule.rotations]
        for override in schedule.overrides:
            _override(override, schedule, rotations, people, ledger, report, by=by, apply=apply, now=now)
    services_policy = {}
    for policy in (p for p in export.policies if p.team_id == team.source_id):
        services_policy[policy.source_id] = _policy(policy, obj, people, layers, ledger, report, by=by, apply=apply)
    for service in (s for s in export.services if s.team_id == team.source_id):
        _service(service, obj, services_policy, ledger, report, by=by, apply=apply)


def _rotation(rot, layer, team, people, ledger, report, *, by, apply):
    obj = None if team is NEW else ledger.get("rotation", rot.source_id, Rotation)
    if obj is not None:
        report.add("rotation", "exists", rot.name)
        return obj
    users = [people.get(p) for p in rot.participants]
    if team is not NEW and Rotation.objects.filter(team=team, name=rot.name).exists():
        report.add("rotation", "skip", rot.name, f"team {team.slug} already has a rotation of this name, not "
                   "imported: rename one and run again")
        return None
    restricted = f", on call only {_windows(rot.restrictions)}" if rot.restrictions else ""
    report.add("rotation", "create", rot.name, f"{rot.shift_length} from {rot.handoff_at:%Y-%m-%d %H:%M} "
               f"{rot.timezone}, {len(users)} people{restricted}")
    if not apply:
        return NEW
    obj = create_rotation(team=team, name=rot.name, participants=users, shift_length=rot.shift_length,
                          handoff_at=rot.handoff_at, timezone=rot.timezone, layer=layer,
                          ends_at=rot.ends_at, restrictions=rot.restrictions, by=by)
    ledger.record("rotation", rot.source_id, obj)
    return obj


def _windows(restrictions: list) -> str:
    days = "Mon Tue Wed Thu Fri Sat Sun".split()
    return "; ".join(f"{','.join(days[d] for d in w['days'])} {w['start']}–{w['end']}" for w in restrictions)


def _override(override, schedule, rotations, people, ledger, report, *, by, apply, now) -> None:
    user = people.get(override.person_id)
    name = f"{schedule.name}: {override.start.astimezone(UTC):%Y-%m-%d %H:%M}–{override.end.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if override.end <= now:
        report.add("override", "skip", name, "over already")
        return
    if user is None:
        report.add("override", "skip", name, "its person is not among PagerDuty's users")
        return
    for rot, rotation in zip(schedule.rotations, rotations, strict=True):
        key = f"{override.source_id}/{rot.source_id}"
        if rotation is None:
            continue
        if rotation is not NEW and ledger.get("override", key, Override) is not None:
            report.add("override", "exists", f"{name} on {rot.name}")
            continue
        start = max(override.start, now)
        who = _name(user)
        report.add("override", "create", f"{name} on {rot.name}", f"{who}" + (" from now" if start > override.start
                                                                              else ""))
        if apply:
            obj = create_override(rotation=rotation, user=user, start=start, end=override.end, by=by,
                                  reason=f"imported from {ledger.source}")
            ledger.record("override", key, obj)


def _policy(policy, team, people, layers, ledger, report, *, by, apply):
    obj = None if team is NEW else ledger.get("policy", policy.source_id, EscalationPolicy)
    if obj is not None:
        report.add("policy", "exists", policy.name)
        return obj
    if team is not NEW and EscalationPolicy.objects.filter(team=team, name=policy.name).exists():
        report.add("policy", "skip", policy.name, f"team {team.slug} already has a policy of this name, not "
                   "imported: rename one and run again")
        return None
    steps = []
    for n, step in enumerate(policy.steps, 1):
        targets = []
        for kind, ident in step.targets:
            if kind == "person" and ident in people:
                user = people[ident]
                targets.append({"type": "user", "id": _name(user)})
            elif kind == "schedule" and ident in layers:
                targets.append({"type": "layer", "id": layers[ident]})
            else:
                report.issues.append(r.Issue("policy", policy.source_id, f"{policy.name}, step {n}",
                                             f"its {kind} {ident} is another team's or was not imported; left out"))
        if targets:
            steps.append({"delay_minutes": step.delay_minutes, "targets": targets})
    if not steps:
        report.add("policy", "skip", policy.name, "none of its targets came over")
        return None
    said = "; ".join(f"{s['delay_minutes']} min → " + ", ".join(f"{t['type']} {t['id']}" for t in s["targets"])
                     for s in steps)
    report.add("policy", "create", policy.name, f"{said}; repeated {policy.repeat}×")
    if not apply:
        return NEW
    obj = create_policy(team=team, name=policy.name[:120], steps=steps, repeat=policy.repeat,
                        description=policy.description, by=by)
    ledger.record("policy", policy.source_id, obj)
    return obj


def _service(service, team, policies, ledger, report, *, by, apply) -> None:
    obj = None if team is NEW else ledger.get("service", service.source_id, Service)
    if obj is not None:
        report.add("service", "exists", obj.slug)
    else:
        slug = _free(Service, "slug", slugify(service.name)[:80], 80, set())
        policy = policies.get(service.policy_id)
        report.add("service", "create", slug, f"{service.name}, paged by "
                   + (policy.name if isinstance(policy, EscalationPolicy) else
                      "its imported policy" if policy is NEW else "the team's default policy"))
        obj = NEW
        if apply:
            obj = create_service(slug=slug, name=service.name[:120], team=team, by=by,
                                 description=service.description,
                                 escalation_policy=policy if isinstance(policy, EscalationPolicy) else None)
            ledger.record("service", service.source_id, obj)
    for integration in service.integrations:
        name = f"{service.name}: {integration.name}"
        if obj is not NEW and ledger.get("integration", integration.source_id, Integration) is not None:
            report.add("integration", "exists", name, "its key was shown when it was imported")
            continue
        report.add("integration", "create", name, f"{integration.kind}, a new key")
        if apply:
            made, key = create_integration(service=obj, kind=integration.kind, name=integration.name, by=by)
            ledger.record("integration", integration.source_id, made)
            report.keys.append(NewKey(service.name, integration.name, integration.kind, key))
