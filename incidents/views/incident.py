"""One incident's pages: declare, read, edit, and the actions on it.

Every action is a POST that calls one service, then redirects back to the
incident page (POST-redirect-GET), so everything works without JavaScript.
When htmx sent the request, the action answers with the page's body partial
instead, which htmx swaps in place.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ..drafts import PUBLIC_KIND_FOR_STATE, draft, kind_for
from ..forms import (
    IncidentCreateForm,
    IncidentEditForm,
    NoteForm,
    ResolveForm,
    RoleForm,
    StatusUpdateForm,
    TransitionForm,
    apply_service_errors,
)
from ..models import ChecklistItem, RoleAssignment, Service, StatusUpdate
from ..panels import render_panels
from ..queries import checklist, commander_of, incidents_for, timeline
from ..services import (
    EDITABLE_FIELDS,
    IllegalTransition,
    add_note,
    allowed_transitions,
    assign_role,
    create_incident,
    post_status_update,
    remove_role,
    resolve_incident,
    tick_checklist_item,
    transition_incident,
    update_incident,
)
from .common import demote_headings, humanize, page, standings

TRANSITION_LABELS = {
    "acknowledge": "Acknowledge", "investigate": "Investigating", "identify": "Cause identified",
    "mitigate": "Mitigated, monitoring", "resolve": "Resolve", "close": "Close", "reopen": "Reopen",
}


def _incident(request, number):
    # Another team's incident does not exist for this reader: 404, not 403.
    return get_object_or_404(incidents_for(request.user), number=number)


def _context(request, incident, *, note_form=None, update_form=None, role_form=None):
    now = timezone.now()
    allowed = allowed_transitions(incident)
    return {
        "incident": incident,
        "commander": commander_of(incident),
        "roles": list(incident.role_assignments.all()),
        # Fetched in full here (the list prefetch leaves out the runbook text).
        "services": _with_runbooks(Service.objects.filter(incidents=incident).select_related("team")),
        "standings": standings(incident, now),
        "transitions": [(name, TRANSITION_LABELS[name]) for name in allowed],
        "timeline": [_event_row(event) for event in timeline(incident)],
        "ack_target": humanize(incident.severity.acknowledge_target),
        "resolve_target": humanize(incident.severity.resolve_target),
        "note_form": note_form or NoteForm(),
        "update_form": update_form or StatusUpdateForm(initial=_update_initial(incident)),
        "promise": _promise(incident, now),
        "role_form": role_form or RoleForm(team=incident.team, incident=incident),
        "transition_form": TransitionForm(),
        "checklist": _checklist(incident),
        # Other apps' panels for the side column (paging's on-call panel): incidents.panels.
        "panels": render_panels(request, incident),
    }


def _live_context(request, incident) -> dict:
    """What the incident page refreshes every 15 s: its head, status actions, details and timeline."""
    now = timezone.now()
    return {
        "incident": incident,
        "standings": standings(incident, now),
        "transitions": [(name, TRANSITION_LABELS[name]) for name in allowed_transitions(incident)],
        "timeline": [_event_row(event) for event in timeline(incident)],
        "ack_target": humanize(incident.severity.acknowledge_target),
        "resolve_target": humanize(incident.severity.resolve_target),
        "checklist": _checklist(incident),
    }


def _checklist(incident) -> dict:
    """The checklist card: the during items, and the after items once the incident is resolved."""
    items = checklist(incident)
    during = [i for i in items if i.phase == "during"]
    after = [i for i in items if i.phase == "after"] if incident.resolved_at else []
    return {
        "during": during, "during_done": sum(i.done for i in during),
        "after": after, "after_done": sum(i.done for i in after),
    }


KIND_LABELS = {
    "checklist": "checklist", "created": "declared", "status_changed": "status", "field_changed": "edited", "role_assigned": "role",
    "role_removed": "role", "note": "note", "status_update": "update",
}


def _event_row(event) -> dict:
    label = KIND_LABELS.get(event.kind, event.kind.replace("_", " "))
    if event.kind == "status_update":
        label = "public update" if event.data.get("public") else "update"
    return {"at": event.at, "kind": event.kind, "label": label, "actor": event.actor, "summary": event.summary}


def _with_runbooks(services):
    services = list(services)
    for service in services:
        service.runbook_rendered = demote_headings(service.runbook_html, levels=3)
    return services


def _promise(incident, now) -> dict | None:
    """The next update the latest one promised, while the incident is open: when, and whether it is overdue."""
    if not incident.is_open:
        return None
    latest = StatusUpdate.objects.filter(incident=incident).order_by("-created_at", "-id").first()
    if latest is None or latest.next_update_at is None:
        return None
    return {"at": latest.next_update_at, "overdue": latest.next_update_at <= now}


def _update_initial(incident) -> dict:
    """The update form as it first shows: the state the incident is in, and the template that fits it
    (the status page's wording once the incident has gone public)."""
    state = _suggested_state(incident)
    public = StatusUpdate.objects.filter(incident=incident, public=True).exists()
    return {"state": state, "template": kind_for(state, public=public), "public": public}


def _suggested_state(incident) -> str:
    return {"identified": "identified", "monitoring": "monitoring", "resolved": "resolved",
            "closed": "resolved"}.get(incident.status, "investigating")


def _show(request, incident, status=200, **forms):
    """The incident page, or only its body when htmx asked (it swaps #incident-body)."""
    template = "incidents/_incident_body.html" if request.htmx else "incidents/incident_detail.html"
    return render(request, template, _context(request, incident, **forms), status=status)


def render_incident(request, incident, *, status=200):
    """The incident page (or its body, for htmx) for another app's action on it, e.g. a refused page.

    The panels read what that app left on ``request`` (a bound form with its errors).
    """
    return _show(request, incident, status=status)


def _next_url(request) -> str | None:
    """Where a form asked to go back to (the dashboard, "my pages"), when it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


def _done(request, number):
    # A form elsewhere (a dashboard row, "my pages") goes back there; htmx follows the redirect
    # and gets that page's fragment.
    target = _next_url(request)
    if target:
        return redirect(target)
    if request.htmx:
        return _show(request, _incident(request, number))
    return redirect("incident-detail", number=number)


@page
def incident_detail(request, number):
    return _show(request, _incident(request, number))


@page
@require_GET
def incident_live(request, number):
    """The parts of the incident page that change while it is open, for its 15-second htmx poll.

    Answers the head (which carries the poll) and swaps the status actions, the
    details and the timeline out of band. Without htmx it is the incident page.
    """
    incident = _incident(request, number)
    if not request.htmx:
        return redirect("incident-detail", number=number)
    return render(request, "incidents/_incident_live.html", _live_context(request, incident))


@page
def incident_create(request):
    form = IncidentCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = create_incident(
                title=data["title"], severity=data["severity"], team=data["team"], by=request.user,
                services=list(data["services"]), category=data["category"],
                description=data["description"], impact=data["impact"], started_at=data["started_at"],
                users_affected=data["users_affected"], revenue_impact=data["revenue_impact"],
                customer_facing=data["customer_facing"], source="form",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{incident.number} declared.")
            return redirect("incident-detail", number=incident.number)
    return render(request, "incidents/incident_form.html", {"form": form, "incident": None})


@page
def incident_edit(request, number):
    incident = _incident(request, number)
    initial = {name: getattr(incident, name) for name in EDITABLE_FIELDS}
    initial["services"] = [s.pk for s in incident.services.all()]
    form = IncidentEditForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        services = list(data.pop("services"))
        try:
            update_incident(incident=incident, by=request.user, services=services, reason=reason, **data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{incident.number} updated.")
            return redirect("incident-detail", number=incident.number)
    return render(request, "incidents/incident_form.html", {"form": form, "incident": incident})


@page
@require_POST
def incident_transition(request, number, transition):
    incident = _incident(request, number)
    form = TransitionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        incident = transition_incident(incident=incident, transition=transition, by=request.user, note=note)
    except IllegalTransition as exc:
        # Usually a stale page: someone else moved the incident on meanwhile.
        allowed = ", ".join(TRANSITION_LABELS[t] for t in exc.allowed) or "none"
        messages.error(request, f"Could not {transition} {exc.incident.number}: it is already "
                                f"{exc.status}. Possible now: {allowed}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{incident.number} is now {incident.get_status_display().lower()}.")
    return _done(request, number)


@page
@require_POST
def incident_note(request, number):
    incident = _incident(request, number)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            add_note(incident=incident, body=form.cleaned_data["body"], by=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Note added.")
            return _done(request, number)
    return _show(request, incident, note_form=form)


@page
@require_POST
def incident_update(request, number):
    incident = _incident(request, number)
    form = StatusUpdateForm(request.POST)
    if "fill" in request.POST:  # "Fill from template": the form again, its text box holding the draft
        return _show(request, incident, update_form=_filled(form, incident))
    if form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        next_at = now + timedelta(minutes=data["next_update_in"]) if data["next_update_in"] else None
        try:
            post_status_update(incident=incident, state=data["state"], body=data["body"],
                               public=data["public"], by=request.user, next_update_at=next_at, now=now)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, format_html('{} <a href="{}">See it there</a>.', "Update posted on the status page.", "/status/")
                             if data["public"] else "Update posted.")
            return _done(request, number)
    return _show(request, incident, update_form=form)


def _filled(form: StatusUpdateForm, incident) -> StatusUpdateForm:
    """A fresh form with what was chosen, and the chosen template's draft as its text."""
    form.is_valid()  # only to read what was chosen; the text may well be empty yet
    data = form.cleaned_data
    kind = data.get("template") or kind_for(data.get("state") or _suggested_state(incident),
                                            public=bool(data.get("public")))
    now = timezone.now()
    next_in = data.get("next_update_in")
    drafted = draft(kind, incident, now=now, next_update_at=now + timedelta(minutes=next_in) if next_in else None)
    initial = {"state": data.get("state") or _suggested_state(incident), "template": kind,
               "public": data.get("public", False), "next_update_in": next_in or "",
               "body": drafted[1] if drafted else data.get("body", "")}
    state = {v: k for k, v in PUBLIC_KIND_FOR_STATE.items()}.get(kind)
    if state:  # a status page template: its state, and public
        initial.update(state=state, public=True)
    return StatusUpdateForm(initial=initial)


@page
def incident_resolve(request, number):
    """Resolve with a summary, and post the resolution update (prefilled from the templates) in the same step."""
    incident = _incident(request, number)
    public = StatusUpdate.objects.filter(incident=incident, public=True).exists()
    if request.method == "POST":
        form = ResolveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                resolved = resolve_incident(
                    incident=incident, by=request.user, summary=data["summary"], root_cause=data["root_cause"],
                    update_body=data["update_body"] if data["post_update"] else "",
                    update_public=data["update_public"], note="",
                )
            except IllegalTransition as exc:
                messages.error(request, f"Could not resolve {exc.incident.number}: it is already {exc.status}.")
                return redirect("incident-detail", number=incident.number)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"{resolved.number} is resolved." + (
                    " The resolution update is posted." if data["post_update"] else ""))
                return redirect("incident-detail", number=incident.number)
    else:
        now = timezone.now()
        drafted = draft(kind_for("resolved", public=public), incident, now=now)
        form = ResolveForm(initial={
            "root_cause": incident.root_cause, "summary": incident.resolution_summary,
            "post_update": True, "update_public": public, "update_body": drafted[1] if drafted else "",
        })
    return render(request, "incidents/incident_resolve.html", {
        "incident": incident, "form": form, "public": public,
        "can_resolve": "resolve" in allowed_transitions(incident),
    })


@page
@require_POST
def incident_role_assign(request, number):
    incident = _incident(request, number)
    form = RoleForm(request.POST, team=incident.team, incident=incident)
    if form.is_valid():
        try:
            assignment = assign_role(incident=incident, role=form.cleaned_data["role"],
                                     user=form.cleaned_data["user"], by=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{assignment.user.display_name} is {assignment.get_role_display()}.")
            return _done(request, number)
    return _show(request, incident, role_form=form)


@page
@require_POST
def incident_role_remove(request, number, pk):
    incident = _incident(request, number)
    assignment = get_object_or_404(RoleAssignment.objects.select_related("user", "incident__team"),
                                   incident=incident, pk=pk)
    remove_role(assignment=assignment, by=request.user)
    messages.success(request, f"{assignment.user.display_name} is no longer {assignment.get_role_display()}.")
    return _done(request, number)


@page
@require_POST
def incident_checklist_tick(request, number, pk):
    """Tick (``done=1``) or untick (``done=0``) one checklist item."""
    incident = _incident(request, number)
    item = get_object_or_404(ChecklistItem, incident=incident, pk=pk)
    done = request.POST.get("done") == "1"
    tick_checklist_item(item=item, by=request.user, done=done)
    messages.success(request, f"{'Done' if done else 'Not done'}: {item.text}.")
    return _done(request, number)
