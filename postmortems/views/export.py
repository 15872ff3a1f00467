"""A postmortem taken elsewhere: a Markdown download and a print-ready page.

Both carry every section, the key events, the contributing factors and the action items, with times in the
reader's zone, labelled. The document's sections are Markdown already: the download keeps them as written,
the print page renders them through the same sanitiser as the postmortem's page. Another team's postmortem
does not exist for the reader: 404, as everywhere.
"""

from datetime import datetime

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateformat import format as date_format

from incidents.views.common import page

from ..models import ActionItemStatus
from ..queries import action_items_for, sort_action_items
from .postmortem import _durations, _rendered, find_postmortem

NOT_WRITTEN = "_Not written yet._"


def _local(instant: datetime | None, fmt: str = "j M Y H:i") -> str:
    return date_format(timezone.localtime(instant), fmt) if instant else "—"


def _parts(request, pk) -> dict:
    """The postmortem and all a complete copy shows (a constant number of queries)."""
    postmortem = find_postmortem(request, pk)
    incident = postmortem.incident
    now = timezone.now()
    items = list(sort_action_items(action_items_for(request.user).filter(incident=incident)))
    for item in items:
        item.overdue = item.is_overdue(now)
    return {
        "postmortem": postmortem, "incident": incident, "facts": postmortem.facts,
        "durations": _durations(postmortem.facts), "factors": list(postmortem.factors.all()),
        "key_events": [e for e in postmortem.events.all() if e.key], "items": items,
        "zone": timezone.get_current_timezone_name(),
    }


def _indented(text: str) -> str:
    """``text`` as the continuation of a list item: its later lines indented under the bullet."""
    return text.strip().replace("\n", "\n  ")


def as_markdown(parts: dict) -> str:
    """The whole postmortem as one Markdown document."""
    pm, incident, facts = parts["postmortem"], parts["incident"], parts["facts"]
    status = pm.get_status_display()
    if pm.published_at:
        status += f" {_local(pm.published_at)}"
    lines = [
        f"# Postmortem: {incident.number} — {incident.title}", "",
        f"- **Incident:** {incident.number} ({incident.get_status_display().lower()})",
        f"- **Severity:** {incident.severity.name}",
        f"- **Category:** {incident.get_category_display()}",
        f"- **Team:** {incident.team.name}",
        f"- **Services:** {', '.join(facts.get('services') or []) or '—'}",
        f"- **Status:** {status}",
        f"- **Owner:** {pm.owner.display_name if pm.owner else 'nobody'}",
        f"- **Impact began:** {_local(incident.started_at)}",
        f"- **Declared:** {_local(incident.created_at)}",
        f"- **Resolved:** {_local(incident.resolved_at)}",
        f"- **Times:** {parts['zone']}", "",
    ]
    impact = {d["key"]: d for d in parts["durations"]}["impact"]
    lines += [
        *_section("Summary", pm.summary),
        "## Impact", "",
        f"- **Duration:** {impact['value'] or 'unknown'} ({impact['how']})",
        f"- **Users affected:** {pm.users_affected if pm.users_affected is not None else 'unknown'}",
        f"- **Revenue impact:** {pm.revenue_impact if pm.revenue_impact is not None else 'unknown'}",
        f"- **SLA / error budget:** {pm.budget_consumed or '—'}",
        f"- **Customer facing:** {'yes' if facts.get('customer_facing') else 'no'}", "",
        *([pm.impact.strip(), ""] if pm.impact.strip() else []),
        "## The incident in numbers", "",
        *(f"- **{d['label']}:** {d['value'] or '—'} ({d['how']})" for d in parts["durations"] if d["key"] != "impact"),
        "",
        *_section("Root cause", pm.root_cause),
        "## Detection", "",
        *_section("How it was detected", pm.detection, level=3),
        *_section("Could it have been detected sooner?", pm.detection_sooner, level=3),
        "## Response", "",
        *([pm.response.strip(), ""] if pm.response.strip() else []),
        *_section("What went well", pm.went_well, level=3),
        *_section("What could improve", pm.to_improve, level=3),
        "## Contributing factors", "",
        *([f"- **{f.tag.name}**" + (f": {_indented(f.description)}" if f.description.strip() else "")
           for f in parts["factors"]] or ["_None named._"]),
        "",
        *_section("Lessons learned", pm.lessons),
        "## Timeline (key events)", "",
        *([f"- {_local(e.at, 'j M Y H:i:s')} — {e.actor or 'Vigil'}: {_indented(e.summary)}"
           for e in parts["key_events"]] or ["_No key events marked._"]),
        "",
        "## Action items", "",
        *([_item(item) for item in parts["items"]] or ["_None._"]),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _section(title: str, text: str, level: int = 2) -> list[str]:
    return [f"{'#' * level} {title}", "", text.strip() or NOT_WRITTEN, ""]


def _item(item) -> str:
    done = "x" if item.status == ActionItemStatus.DONE else " "
    meta = [item.get_status_display().lower(), f"owner {item.owner.display_name}" if item.owner else "no owner"]
    if item.due_at:
        meta.append(("overdue, " if item.overdue else "") + f"due {_local(item.due_at, 'j M Y')}")
    line = f"- [{done}] **{item.priority}** {item.title} ({', '.join(meta)})"
    if item.success_criteria.strip():
        line += f"\n  Success criteria: {_indented(item.success_criteria)}"
    if item.status == ActionItemStatus.WONT_DO and item.wont_do_reason.strip():
        line += f"\n  Won't do: {_indented(item.wont_do_reason)}"
    return line


@page
def postmortem_markdown(request, pk):
    """The postmortem as a Markdown file, downloaded."""
    parts = _parts(request, pk)
    response = HttpResponse(as_markdown(parts), content_type="text/markdown; charset=utf-8")
    name = f"{parts['incident'].number}-postmortem.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page
def postmortem_print(request, pk):
    """The postmortem on a clean page for printing (or saving as PDF from the browser's print dialog)."""
    parts = _parts(request, pk)
    parts["html"] = _rendered(parts["postmortem"])
    return render(request, "postmortems/print.html", parts)
