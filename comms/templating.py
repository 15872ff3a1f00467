"""Communication templates: placeholders from an incident, rendered by Django's template engine in a sandbox.

A template (``CommTemplate``: a subject and a body) is written by people, in the browser or the admin,
and rendered for an incident when an update is drafted. Its author is trusted to write text, not code,
so the language it may use is small, and checked twice:

* **When it is saved** (``validate``): the text is compiled by a dedicated ``Engine`` and its node tree
  walked. Only ``{{ placeholder }}`` variables named in ``PLACEHOLDERS`` are allowed, and only as plain
  names: no dotted lookup (``{{ title.upper }}``, ``{{ services.0 }}``), in a variable, an ``{% if %}``
  condition or a filter argument alike. Only the tags ``{% if %}``/``{% elif %}``/``{% else %}``/
  ``{% endif %}`` and ``{% comment %}``, and only the plain-text filters in ``ALLOWED_FILTERS``. Anything
  else is refused with a message naming it and its line. ``commander`` is refused in the kinds customers
  read (``PUBLIC_KINDS``): they never see people's names.
* **When it is rendered** (``render``): by the same engine, which knows nothing else. It is not the
  project's engine: it has no loaders (no ``{% include %}`` or ``{% extends %}`` could find a file), no
  context processors (no ``request``, ``user`` or settings), no libraries to ``{% load %}``, and its
  builtins are only the tags and filters above, so anything the check might miss cannot even compile.
  The context is a dict of plain strings (``context_for``), never a model: even a lookup that slipped
  through would reach only a ``str``. ``autoescape`` is off (the output is plain text: e-mail, Slack,
  the status page's text; whoever shows it as HTML escapes it then) and ``string_if_invalid`` is empty.
  The filters are wrapped so that a bad argument gives the value back instead of raising: rendering
  validated text never raises. Without loops the output grows at most linearly with the text.

``render_for(kind, incident)`` is what callers use: the team's override if it has one, else the
organisation's template, else the built-in ``DEFAULTS`` text, rendered with ``context_for(incident)``.
"""

import functools
import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import FilterExpression, TextNode, TokenType, Variable, VariableNode
from django.template.defaulttags import CommentNode, IfNode
from django.utils import timezone
from django.utils.dateformat import format as date_format

from incidents.models import Incident, RoleAssignment
from incidents.views.common import humanize

from .models import PUBLIC_KINDS, CommTemplate, TemplateKind

logger = logging.getLogger(__name__)

PLACEHOLDERS: dict[str, str] = {
    "number": "The incident's number, e.g. INC-2026-0042.",
    "title": "Its title.",
    "severity": "Its severity, e.g. SEV2.",
    "status": "Its status, e.g. Investigating.",
    "services": "The services it affects, comma-separated (may be empty).",
    "impact": "What users experience, as written on the incident (may be empty).",
    "commander": "The incident commander's name (may be empty). Not allowed where customers read.",
    "start": "When impact began (else when it was declared), in the team's time zone: 1 Dec 2026, 14:03 CET.",
    "duration": "How long it lasted: until resolved, or until now, e.g. 1 h 12 min.",
    "next_update": "When the next update is promised, written like start (may be empty).",
    "root_cause": "What caused it, once known (may be empty).",
    "team": "The team's name.",
}

# Never in what customers read (``PUBLIC_KINDS``): people's names.
PRIVATE_PLACEHOLDERS = frozenset({"commander"})

# Context builtins Django resolves by name (``{% if impact == None %}``): constants, not lookups.
_CONSTANTS = frozenset({"True", "False", "None"})

ALLOWED_TAGS = ("if", "elif", "else", "endif", "comment", "endcomment")

ALLOWED_FILTERS = ("default", "upper", "lower", "title", "capfirst", "truncatechars", "truncatewords",
                   "wordwrap", "yesno")
# Their argument is a count: a whole number above zero, written in the template.
_COUNT_FILTERS = frozenset({"truncatechars", "truncatewords", "wordwrap"})


# --- The sandbox engine ---------------------------------------------------------------------------------

def _never_raises(name: str, func):
    """``func`` as a filter that gives the value back where it would raise (``wordwrap:0``)."""

    @functools.wraps(func)  # keeps its signature, which Django reads to check the argument count
    def safe(value, *args):
        try:
            return func(value, *args)
        except Exception:  # noqa: BLE001 - a filter's failure leaves the text as it was, never a 500
            logger.warning("Filter %s failed in a communication template; value kept", name)
            return value

    return safe


_LIBRARY = Library()
_LIBRARY.tag("if", defaulttags.do_if)
_LIBRARY.tag("comment", defaulttags.comment)
for _name in ALLOWED_FILTERS:
    _LIBRARY.filter(_name, _never_raises(_name, getattr(defaultfilters, _name)))


class _SandboxEngine(Engine):
    # Engine always puts these before its ``builtins``: nothing of Django's, only ``_LIBRARY``.
    default_builtins = []

    def __init__(self):
        super().__init__(loaders=[], context_processors=[], libraries={}, builtins=[], autoescape=False,
                         string_if_invalid="", debug=False)
        self.template_builtins = [_LIBRARY]


_ENGINE = _SandboxEngine()


# --- Validation ------------------------------------------------------------------------------------------

def _known() -> str:
    return ", ".join(PLACEHOLDERS)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _check_variable(var, *, line: int, public: bool, problems: list[str]) -> None:
    """One variable of the text (a ``{{ }}``, an ``{% if %}`` operand, a filter argument)."""
    if not isinstance(var, Variable):
        return  # a string written in the template: resolved at compile time
    if var.lookups is None:
        return  # a number written in the template
    name = ".".join(var.lookups)
    if len(var.lookups) > 1:
        problems.append(f"Line {line}: {{{{ {_short(name)} }}}}: no attribute access in templates; use the "
                        f"placeholder {{{{ {_short(var.lookups[0])} }}}} as it is (a filter such as |upper "
                        f"changes how it reads).")
    elif name in _CONSTANTS:
        return
    elif name not in PLACEHOLDERS:
        problems.append(f"Line {line}: unknown placeholder {{{{ {_short(name)} }}}}; the placeholders are: "
                        f"{_known()}.")
    elif public and name in PRIVATE_PLACEHOLDERS:
        problems.append(f"Line {line}: {{{{ {name} }}}} is not allowed here: customers read this template, "
                        f"and they never see people's names.")


def _check_expression(expression: FilterExpression, *, line: int, public: bool, problems: list[str]) -> None:
    _check_variable(expression.var, line=line, public=public, problems=problems)
    for func, args in expression.filters:
        name = getattr(func, "_filter_name", "")
        for is_variable, arg in args:
            if is_variable:
                _check_variable(arg, line=line, public=public, problems=problems)
        if name in _COUNT_FILTERS:
            count = args[0][1] if args else None
            literal = count.literal if isinstance(count, Variable) else None
            if not (isinstance(literal, int) and not isinstance(literal, bool) and literal > 0):
                problems.append(f"Line {line}: |{name} needs a whole number above zero, e.g. |{name}:80.")


def _check_condition(condition, *, line: int, public: bool, problems: list[str]) -> None:
    """An ``{% if %}`` condition: a tree of operators whose leaves hold filter expressions."""
    if condition is None:  # {% else %}
        return
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        _check_expression(value, line=line, public=public, problems=problems)
        return
    for operand in (getattr(condition, "first", None), getattr(condition, "second", None)):
        _check_condition(operand, line=line, public=public, problems=problems)


def _walk(nodes, *, public: bool, problems: list[str]) -> None:
    for node in nodes:
        line = node.token.lineno if getattr(node, "token", None) else 1
        if isinstance(node, TextNode | CommentNode):
            continue
        if isinstance(node, VariableNode):
            _check_expression(node.filter_expression, line=line, public=public, problems=problems)
        elif isinstance(node, IfNode):
            for condition, nodelist in node.conditions_nodelists:
                _check_condition(condition, line=line, public=public, problems=problems)
                _walk(nodelist, public=public, problems=problems)
        else:  # the engine compiles nothing else; should it one day, refuse rather than trust it
            problems.append(f"Line {line}: {type(node).__name__} is not allowed in templates.")


def _syntax_message(exc: TemplateSyntaxError) -> str:
    token = getattr(exc, "token", None)
    line = token.lineno if token is not None else 1
    if token is not None and token.token_type == TokenType.BLOCK:
        command = (token.contents.split() or [""])[0]
        if command and command not in ALLOWED_TAGS:
            return (f"Line {line}: the tag {{% {_short(command)} %}} is not allowed; templates may use only "
                    f"{{% if %}} … {{% elif %}} … {{% else %}} … {{% endif %}} and {{% comment %}}.")
        if command in ("elif", "else", "endif", "endcomment"):
            opening = "comment" if command == "endcomment" else "if"
            return f"Line {line}: {{% {command} %}} has no {{% {opening} %}} before it."
    unclosed = re.match(r"Unclosed tag on line [0-9]+: '(if|comment)'", str(exc))
    if unclosed:
        return f"Line {line}: {{% {unclosed[1]} %}} is not closed: end it with {{% end{unclosed[1]} %}}."
    found = re.fullmatch(r"Invalid filter: '(.*)'", str(exc))
    if found:
        return (f"Line {line}: the filter |{_short(found[1])} is not allowed; use one of: "
                f"{', '.join(ALLOWED_FILTERS)}.")
    # Django's own message, without its own "on line N" (ours leads).
    return f"Line {line}: {re.sub(r' on line [0-9]+', '', str(exc))}"


def problems_in(text: str, *, kind: str) -> list[str]:
    """What is wrong with ``text`` as a template of ``kind``, one message each (empty: nothing)."""
    try:
        template = _ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        return [_syntax_message(exc)]
    problems: list[str] = []
    _walk(template.nodelist, public=kind in PUBLIC_KINDS, problems=problems)
    return list(dict.fromkeys(problems))


def validate(text: str, *, kind: str, field: str = "body") -> None:
    """Refuse (``ValidationError({field: messages})``) text that is not a valid template of ``kind``."""
    problems = problems_in(text, kind=kind)
    if problems:
        raise ValidationError({field: problems})


# --- The context -----------------------------------------------------------------------------------------

_COMMANDERS = "comms_commanders"


def prefetch_context(queryset):
    """``queryset`` of incidents with what ``context_for`` reads, so it runs no query of its own."""
    return queryset.select_related("team", "severity").prefetch_related(
        "services",
        Prefetch("role_assignments", to_attr=_COMMANDERS,
                 queryset=RoleAssignment.objects.filter(role=RoleAssignment.Role.COMMANDER).select_related("user")),
    )


def _prefetched(incident: Incident) -> bool:
    return (hasattr(incident, _COMMANDERS) and "services" in getattr(incident, "_prefetched_objects_cache", {})
            and Incident.team.is_cached(incident) and Incident.severity.is_cached(incident))


def format_instant(instant: datetime | None, zone: str) -> str:
    """``1 Dec 2026, 14:03 CET``: in ``zone``, with its abbreviation."""
    if instant is None:
        return ""
    return date_format(instant.astimezone(ZoneInfo(zone)), "j M Y, H:i T")


# ``35 min``, ``1 h 12 min``, ``2 d 3 h``: the incident pages' own wording of a duration.
format_duration = humanize


def context_for(incident: Incident, *, now: datetime | None = None,
                next_update_at: datetime | None = None) -> dict[str, str]:
    """Every placeholder of ``incident``, as plain strings.

    Three queries, or none for an incident read through ``prefetch_context``.
    """
    if not _prefetched(incident):
        incident = prefetch_context(Incident.objects.filter(pk=incident.pk)).get()
    now = now or timezone.now()
    zone = incident.team.timezone
    start = incident.started_at or incident.created_at
    commander = next((a.user.display_name for a in getattr(incident, _COMMANDERS)), "")
    return {
        "number": incident.number or "",
        "title": incident.title,
        "severity": incident.severity.name,
        "status": incident.get_status_display(),
        "services": ", ".join(sorted(service.name for service in incident.services.all())),
        "impact": incident.impact,
        "commander": commander,
        "start": format_instant(start, zone),
        "duration": format_duration((incident.resolved_at or now) - start),
        "next_update": format_instant(next_update_at, zone),
        "root_cause": incident.root_cause,
        "team": incident.team.name,
    }


# --- Rendering -------------------------------------------------------------------------------------------

def render(text: str, context: dict) -> str:
    """``text`` (validated) rendered with ``context`` (``context_for``'s strings), as plain text."""
    return str(_ENGINE.from_string(text).render(Context(context, autoescape=False)))


def render_pair(subject: str, body: str, context: dict) -> tuple[str, str]:
    """A subject on one line, and a body without runs of blank lines that ``{% if %}`` blocks leave."""
    subject = " ".join(render(subject, context).split())
    lines = [line.rstrip() for line in render(body, context).splitlines()]
    return subject, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def template_for(kind: str, team) -> CommTemplate | None:
    """``team``'s own template of ``kind``, else the organisation's (one query); None if neither exists."""
    found = CommTemplate.objects.filter(kind=kind).filter(Q(team__isnull=True) | Q(team=team) if team else
                                                          Q(team__isnull=True))
    rows = sorted(found, key=lambda t: t.team_id is None)
    return rows[0] if rows else None


def render_for(kind: str, incident: Incident, *, now: datetime | None = None,
               next_update_at: datetime | None = None) -> tuple[str, str]:
    """(subject, body) of ``kind`` for ``incident``: its team's template, the organisation's, or the default.

    A stored text that no longer passes ``validate`` (written around the services) is not rendered:
    the default is, and a warning logged.
    """
    if kind not in TemplateKind.values:
        raise ValueError(f"Unknown template kind {kind!r}; use one of {', '.join(TemplateKind.values)}.")
    subject, body = DEFAULTS[kind]
    stored = template_for(kind, incident.team)
    if stored is not None:
        if problems_in(stored.subject, kind=kind) or problems_in(stored.body, kind=kind):
            logger.warning("Communication template %s does not validate; the default text is used", stored.pk)
        else:
            subject, body = stored.subject, stored.body
    return render_pair(subject, body, context_for(incident, now=now, next_update_at=next_update_at))


# --- Default texts (comms/migrations/0003 seeds the organisation's templates with a copy) ----------------

DEFAULTS: dict[str, tuple[str, str]] = {
    TemplateKind.INITIAL: (
        "[{{ severity }}] {{ number }}: {{ title }}",
        """We are responding to an incident.

{{ number }} · {{ severity }} · {{ status }}
{{ title }}

Team: {{ team }}
Services: {{ services|default:"not yet known" }}
Started: {{ start }}
Incident commander: {{ commander|default:"not yet assigned" }}
{% if impact %}Impact: {{ impact }}
{% endif %}
{% if next_update %}Next update by {{ next_update }}.{% else %}We will send an update as soon as we know more.{% endif %}
""",
    ),
    TemplateKind.UPDATE: (
        "[{{ severity }}] {{ number }} {{ status|lower }}: {{ title }}",
        """Update on {{ number }}: {{ title }}

Status: {{ status }} ({{ severity }}), {{ duration }} since it started at {{ start }}.
Services: {{ services|default:"not yet known" }}
Incident commander: {{ commander|default:"not yet assigned" }}
{% if impact %}Impact: {{ impact }}
{% endif %}{% if root_cause %}Cause: {{ root_cause }}
{% endif %}
{% if next_update %}Next update by {{ next_update }}.{% else %}We will send another update when there is news.{% endif %}
""",
    ),
    TemplateKind.RESOLUTION: (
        "[Resolved] {{ number }}: {{ title }}",
        """{{ number }} is resolved: {{ title }}

Severity: {{ severity }}
Started: {{ start }}
Duration: {{ duration }}
Services: {{ services|default:"none recorded" }}
{% if impact %}Impact: {{ impact }}
{% endif %}{% if root_cause %}Root cause: {{ root_cause }}
{% endif %}
Follow-up work will be tracked in the postmortem. Thank you to everyone who helped{% if commander %}, and to {{ commander }} for leading the response{% endif %}.
""",
    ),
    TemplateKind.STATUS_INVESTIGATING: (
        "Investigating: {{ title }}",
        """We are investigating an issue{% if impact %}: {{ impact }}{% else %} that may affect our service.{% endif %}

{% if next_update %}We will post an update by {{ next_update }}.{% else %}We will post an update as soon as we know more.{% endif %}
""",
    ),
    TemplateKind.STATUS_IDENTIFIED: (
        "Identified: {{ title }}",
        """The issue has been identified and a fix is being implemented.

{% if next_update %}We will post an update by {{ next_update }}.{% else %}We will post an update as soon as we know more.{% endif %}
""",
    ),
    TemplateKind.STATUS_MONITORING: (
        "Monitoring: {{ title }}",
        """A fix has been implemented and we are monitoring the results.

{% if next_update %}We will post an update by {{ next_update }}.{% else %}We will post an update once we are confident the issue is resolved.{% endif %}
""",
    ),
    TemplateKind.STATUS_RESOLVED: (
        "Resolved: {{ title }}",
        """This incident has been resolved. It began {{ start }} and lasted {{ duration }}.

We apologise for the inconvenience and thank you for your patience.
""",
    ),
    TemplateKind.CUSTOMER_EMAIL: (
        "{{ title }}: {{ status|lower }}",
        """Hello,

We are writing to let you know about an issue with our service that began {{ start }}.
{% if impact %}
What you may notice: {{ impact }}
{% endif %}
Current status: {{ status }}
{% if next_update %}We will write again by {{ next_update }}.{% else %}We will write again when there is news.{% endif %}

We are sorry for the disruption and thank you for your patience.
""",
    ),
}
