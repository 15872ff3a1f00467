"""The ``/incident`` slash command: parse the text, call the other apps' services as the linked person.

Every answer is a ``Reply`` (Slack's ``response_type`` and ``text``); bad input gets a reply that
says what to fix and shows the usage, never an exception. Incidents the person cannot see are
"not found", like a 404: a command never reveals them.
"""

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.text import UNSTORABLE
from incidents.models import Incident, Severity, Source, StatusUpdate
from incidents.services import (
    IllegalTransition,
    create_incident,
    post_status_update,
    transition_incident,
)
from oncall.models import Team, User
from oncall.schedule import who_is_on_call
from paging.services.pages import page

USAGE = """\
*Vigil's `{command}` command*
• `{command} declare "<title>" sev=<1-4> team=<team>` declare an incident
• `{command} ack <number>` acknowledge it
• `{command} resolve <number>` resolve it
• `{command} status <number> investigating|identified|monitoring|resolved "<text>"` post an internal status update
• `{command} page <number> <team|@username> "<message>"` page a team's on-call or a person about an incident
• `{command} oncall [team]` who is on call now (your teams when none is named)
• `{command} help` this text
An incident number is `INC-2026-0042`, or just `42` for this year's. Quote text with spaces: `"Checkout is down"`."""

STATES = tuple(StatusUpdate.State.values)
# Slack's clients may turn straight quotes into typographic ones.
SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})
# With "Escape channels, users, and links" on, Slack sends a mention as <@U012AB3CD|name>.
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>")
NUMBER = re.compile(r"(?i)(?:INC-(\d{4})-)?(\d{1,9})")
MAX_TEXT = 4000


@dataclass
class Reply:
    text: str
    in_channel: bool = False
    blocks: list = field(default_factory=list)

    def as_json(self) -> dict:
        body = {"response_type": "in_channel" if self.in_channel else "ephemeral", "text": self.text}
        if self.blocks:
            body["blocks"] = self.blocks
        return body


class Refusal(Exception):
    """Bad input: the message says what to fix."""


def usage(command: str = "/incident") -> str:
    return USAGE.format(command=command)


def linked_user(slack_user_id: str) -> User | None:
    """The active Vigil person whose Slack member id is ``slack_user_id``, or None."""
    if not slack_user_id:
        return None
    return User.objects.filter(slack_user_id=slack_user_id, is_active=True).first()


def not_linked(*, site: str) -> Reply:
    url = site + reverse("paging-profile")
    return Reply(f"Your Slack account is not linked to a Vigil account yet. Open Vigil's Notification settings, "
                 f"{url} , and enter your Slack member ID (in Slack: your profile, ⋮, Copy member ID); "
                 f"then run the command again.")


def run(*, text: str, user: User, site: str, command: str = "/incident", now: datetime | None = None) -> Reply:
    """Run one ``/incident`` command as ``user``; ``site`` is Vigil's address for links."""
    command = command if command and len(command) <= 40 and command.startswith("/") else "/incident"
    if UNSTORABLE.search(text):
        return Reply("The command holds a NUL character or an unpaired surrogate; remove it.\n\n" + usage(command))
    if len(text) > MAX_TEXT:
        return Reply(f"The command is over {MAX_TEXT} characters; shorten it.")
    try:
        words = shlex.split(text.translate(SMART_QUOTES))
    except ValueError:
        return Reply("A quote is not closed: put the text between a pair of \"double quotes\".\n\n" + usage(command))
    if not words or words[0].lower() not in HANDLERS:
        unknown = f"I don't know `{words[0][:40]}`. " if words and words[0].lower() != "help" else ""
        return Reply(unknown + usage(command))
    name, args = words[0].lower(), words[1:]
    try:
        return HANDLERS[name](args=args, user=user, site=site, now=now or timezone.now())
    except Refusal as refusal:
        return Reply(f"{refusal}\n\n{_usage_line(command, name)}")
    except ValidationError as error:
        return Reply(f"{_messages(error)}\n\n{_usage_line(command, name)}")
    except PermissionDenied as denied:
        return Reply(str(denied) or "You may not do that.")


def _usage_line(command: str, name: str) -> str:
    lines = [line for line in usage(command).splitlines() if line.startswith(f"• `{command} {name}")]
    return "Usage: " + lines[0][2:] if lines else usage(command)


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(f"{message}" for messages in error.message_dict.values() for message in messages)
    return " ".join(error.messages)


def _split(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positional words and ``key=value`` options."""
    positional, options = [], {}
    for arg in args:
        key, eq, value = arg.partition("=")
        if eq and key.isalpha():
            options[key.lower()] = value
        else:
            positional.append(arg)
    return positional, options


def _one_text(words: list[str], what: str) -> str:
    if not words:
        raise Refusal(f"Give the {what} in double quotes.")
    if len(words) > 1:
        raise Refusal(f"Put the {what} in double quotes: \"{' '.join(words)[:200]}\".")
    if not words[0].strip():
        raise Refusal(f"The {what} is empty.")
    return words[0].strip()


def _incident(word: str | None, user: User, now: datetime) -> Incident:
    """The incident ``word`` names, among those ``user`` may see; any other is "not found"."""
    if not word:
        raise Refusal("Name the incident: its number, such as INC-2026-0042 (or 42).")
    match = NUMBER.fullmatch(word.strip())
    found = None
    if match:
        year = int(match[1]) if match[1] else now.year
        number = f"INC-{year}-{int(match[2]):04d}"
        found = (Incident.objects.visible_to(user).select_related("team", "severity")
                 .filter(number=number).first())
    if found is None:
        raise Refusal(f"No incident {word[:40]} found among the incidents you can see.")
    return found


def _link(site: str, incident: Incident) -> str:
    return f"<{site}{reverse('incident-detail', args=[incident.number])}|{incident.number}>"


def _declare(*, args, user, site, now) -> Reply:
    positional, options = _split(args)
    title = _one_text(positional, "title")
    unknown = sorted(set(options) - {"sev", "severity", "team"})
    if unknown:
        raise Refusal(f"Unknown option {unknown[0]}=; use sev= and team=.")
    sev = (options.get("sev") or options.get("severity") or "").upper().removeprefix("SEV")
    if not sev:
        raise Refusal("Give a severity: sev=1 (most severe) to sev=4.")
    severity = Severity.objects.filter(name=f"SEV{sev}").first() if sev.isascii() and sev.isdigit() else None
    if severity is None:
        names = ", ".join(n.removeprefix("SEV") for n in Severity.objects.values_list("name", flat=True))
        raise Refusal(f"Unknown severity sev={options.get('sev') or options.get('severity')}; use one of {names}.")
    mine = Team.objects.visible_to(user)
    slug = options.get("team", "")
    if slug:
        team = mine.filter(slug=slug).first()
        if team is None:
            raise Refusal(f"No team {slug[:60]} among the teams you belong to.")
    else:
        teams = list(mine.order_by("slug")[:2]) if not user.is_staff else []
        if len(teams) != 1:
            raise Refusal("Name the team: team=<slug>.")
        team = teams[0]
    incident = create_incident(title=title, severity=severity, team=team, by=user, source=Source.CHAT, now=now)
    text = (f"{_link(site, incident)} declared by <@{user.slack_user_id}>: *{incident.title}* "
            f"({severity.name}, team {team.name}).")
    return Reply(text, in_channel=True, blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": "vigil_incident", "elements": [
            {"type": "button", "action_id": f"vigil_{transition}", "value": incident.number,
             "text": {"type": "plain_text", "text": label}, **({"style": "primary"} if transition == "resolve" else {})}
            for transition, label in (("acknowledge", "Acknowledge"), ("resolve", "Resolve"))
        ]},
    ])


def button(*, action_id: str, value: str, user: User, site: str, now: datetime | None = None) -> Reply:
    """A click on one of the buttons of a message Vigil posted (``_declare``): acknowledge or resolve."""
    transition = action_id.removeprefix("vigil_")
    handler = {"acknowledge": HANDLERS["ack"], "resolve": HANDLERS["resolve"]}.get(transition)
    if handler is None or not isinstance(value, str):
        return Reply("Vigil does not know that button.")
    try:
        return handler(args=[value], user=user, site=site, now=now or timezone.now())
    except Refusal as refusal:
        return Reply(str(refusal))
    except PermissionDenied as denied:
        return Reply(str(denied) or "You may not do that.")


def _transition(transition: str, done: str):
    def handler(*, args, user, site, now) -> Reply:
        if len(args) != 1:
            raise Refusal("Name one incident by its number.")
        incident = _incident(args[0], user, now)
        try:
            incident = transition_incident(incident=incident, transition=transition, by=user,
                                           note="From Slack", now=now)
        except IllegalTransition as illegal:
            allowed = ", ".join(illegal.allowed) or "none"
            return Reply(f"{incident.number} is {illegal.status}: it cannot be {done} now. "
                         f"Allowed from there: {allowed}.")
        return Reply(f"{_link(site, incident)} *{incident.title}* {done} by <@{user.slack_user_id}>.",
                     in_channel=True)
    return handler


def _status(*, args, user, site, now) -> Reply:
    if len(args) < 2:
        raise Refusal("Name the incident, the state and the text.")
    incident = _incident(args[0], user, now)
    state = args[1].lower()
    if state not in STATES:
        raise Refusal(f"Unknown state {args[1][:40]}; use one of {', '.join(STATES)}.")
    body = _one_text(args[2:], "update's text")
    post_status_update(incident=incident, state=state, body=body, public=False, by=user, now=now)
    return Reply(f"{_link(site, incident)} update ({state}) by <@{user.slack_user_id}>: {body}", in_channel=True)


def _target(word: str) -> dict:
    mention = MENTION.fullmatch(word)
    if mention:
        person = linked_user(mention[1])
        if person is None:
            raise Refusal(f"{word} has not linked their Slack account to Vigil; page them by @username.")
        return {"type": "user", "id": person.username}
    if word.startswith("@"):
        if len(word) == 1:
            raise Refusal("Give a username after @.")
        return {"type": "user", "id": word[1:]}
    return {"type": "team", "id": word}


def _page(*, args, user, site, now) -> Reply:
    if len(args) < 2:
        raise Refusal("Name the incident, then a team or @username, then the message in quotes.")
    incident = _incident(args[0], user, now)
    target = _target(args[1])
    message = _one_text(args[2:], "message")
    sent = page(incident=incident, targets=[target], by=user, message=message, now=now)
    people = sorted(User.objects.filter(pk__in={n.user_id for n in sent}).values_list("username", flat=True))
    who = ", ".join(people) if people else args[1]
    return Reply(f"{_link(site, incident)}: <@{user.slack_user_id}> paged {args[1]} ({who}): {message}",
                 in_channel=True)


def _oncall(*, args, user, site, now) -> Reply:
    if len(args) > 1:
        raise Refusal("Name at most one team.")
    if args:
        teams = list(Team.objects.visible_to(user).filter(slug=args[0]))
        if not teams:
            raise Refusal(f"No team {args[0][:60]} among the teams you can see.")
    else:
        teams = list(Team.objects.filter(memberships__user=user).distinct())
        if not teams:
            raise Refusal("You are in no team; name one: oncall <team>.")
    shifts = who_is_on_call(now, teams=teams, include_gaps=True)
    lines = []
    for team in sorted(teams, key=lambda t: t.name):
        mine = [s for s in shifts if s.team.pk == team.pk]
        if not mine:
            lines.append(f"*{team.name}*: no rotation.")
        for shift in mine:
            if shift.user is None:
                lines.append(f"*{team.name}* {shift.rotation.name}: nobody on call.")
                continue
            who = f"<@{shift.user.slack_user_id}>" if shift.user.slack_user_id else shift.user.get_username()
            until = int(shift.shift_end.timestamp())
            fallback = shift.shift_end.strftime("%Y-%m-%d %H:%M UTC")
            lines.append(f"*{team.name}* {shift.rotation.name}: {who}"
                         f"{' (override)' if shift.override else ''} until "
                         f"<!date^{until}^{{date_short_pretty}} {{time}}|{fallback}>")
    return Reply("On call now:\n" + "\n".join(lines))


HANDLERS = {
    "declare": _declare,
    "ack": _transition("acknowledge", "acknowledged"),
    "acknowledge": _transition("acknowledge", "acknowledged"),
    "resolve": _transition("resolve", "resolved"),
    "status": _status,
    "page": _page,
    "oncall": _oncall,
}
