"""One postmortem's pages: read it, edit it (optimistically locked), and the actions on it.

Every action is a POST that calls one service, then redirects back to the postmortem (POST-redirect-GET),
so everything works without JavaScript. Another team's postmortem does not exist for the reader: 404.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.services import can_work
from incidents.views.common import humanize, page

from ..forms import (
    ActionItemForm,
    EventForm,
    FactorForm,
    MeetingForm,
    PostmortemForm,
    ReviewersForm,
    TransitionForm,
    apply_service_errors,
    form_errors,
)
from ..markdown import render as markdown
from ..models import ContributingFactor, PostmortemStatus
from ..queries import (
    action_items_for,
    assignable_people,
    factor_tags_for,
    is_overdue,
    meeting_of,
    postmortems_in_full,
    sort_action_items,
)
from ..services import (
    EditConflict,
    IllegalTransition,
    PostmortemConflict,
    add_event,
    add_factor,
    allowed_transitions,
    cancel_meeting,
    create_action_item,
    refresh_from_incident,
    remove_factor,
    request_review,
    schedule_meeting,
    transition_postmortem,
    update_postmortem,
)
from ..services.postmortem import EDITABLE_FIELDS, TEXT_FIELDS

TRANSITION_LABELS = {"submit": "Submit for review", "approve": "Approve", "publish": "Publish",
                     "reopen": "Reopen"}
DURATIONS = [("detect", "Time to detect", "declared − impact start"),
             ("acknowledge", "Time to acknowledge", "from declaration"),
             ("mitigate", "Time to mitigate", "from declaration"),
             ("resolve", "Time to resolve", "from declaration"),
             ("impact", "Impact duration", "impact start (or declaration) to resolution")]


def find_postmortem(request, pk):
    return get_object_or_404(postmortems_in_full(request.user), pk=pk)


def _durations(facts: dict) -> list[dict]:
    seconds = facts.get("durations", {})
    return [{"key": key, "label": label, "how": how,
             "value": humanize(timedelta(seconds=seconds[key])) if seconds.get(key) is not None else None}
            for key, label, how in DURATIONS]


def _rendered(postmortem) -> dict:
    """Each Markdown section as sanitised HTML, by field name."""
    return {name: markdown(getattr(postmortem, name)) for name in TEXT_FIELDS if name != "budget_consumed"}


def _context(request, postmortem, **forms) -> dict:
    now = timezone.now()
    incident = postmortem.incident
    working = can_work(request.user, incident)
    people = assignable_people(incident, request.user)
    events = list(postmortem.events.all())
    reviews = list(postmortem.reviews.all())
    items = list(sort_action_items(action_items_for(request.user).filter(incident=incident)))
    for item in items:
        item.overdue = item.is_overdue(now)
    return {
        "postmortem": postmortem,
        "incident": incident,
        "facts": postmortem.facts,
        "durations": _durations(postmortem.facts),
        "html": _rendered(postmortem),
        "overdue": is_overdue(postmortem, now),
        "can_work": working,
        "transitions": [(name, TRANSITION_LABELS[name]) for name in allowed_transitions(postmortem, request.user)]
        if working else [],
        "reviews": [{"review": r, "approved_now": r.approved_round == postmortem.review_round and r.approved_at,
                     "is_owner": r.reviewer_id == postmortem.owner_id} for r in reviews],
        "approved": any(r.approved_round == postmortem.review_round and r.approved_at
                        and r.reviewer_id != postmortem.owner_id for r in reviews),
        "factors": list(postmortem.factors.all()),
        "key_events": [e for e in events if e.key],
        "events": events,
        "items": items,
        "items_open": sum(i.active for i in items),
        "transition_form": TransitionForm(),
        "factor_form": forms.get("factor_form") or FactorForm(tags=factor_tags_for(incident.team)),
        "event_form": forms.get("event_form") or EventForm(),
        "item_form": forms.get("item_form") or ActionItemForm(people=people, initial={"owner": postmortem.owner_id}),
        "reviewers_form": forms.get("reviewers_form") or ReviewersForm(
            people=people.exclude(pk=postmortem.owner_id) if postmortem.owner_id else people),
        **_meeting_context(postmortem, now, forms.get("meeting_form")),
    }


def _meeting_form(postmortem, data=None, meeting=None) -> MeetingForm:
    initial = {"duration_minutes": 60, "attendees": [postmortem.owner_id] if postmortem.owner_id else []}
    if meeting is not None and meeting.cancelled_at is None:
        initial = {"starts_at": meeting.starts_at, "duration_minutes": meeting.duration_minutes,
                   "location": meeting.location, "attendees": [u.pk for u in meeting.attendees.all()]}
    return MeetingForm(data, initial=initial, people=assignable_people(postmortem.incident),
                       zone=timezone.get_current_timezone_name())


def _meeting_context(postmortem, now, form=None) -> dict:
    """The review meeting card: the meeting (none, scheduled or cancelled), its history, the form."""
    meeting = meeting_of(postmortem)
    active = meeting is not None and meeting.cancelled_at is None
    return {
        "meeting": meeting,
        "meeting_active": active,
        "meeting_over": active and meeting.starts_at + timedelta(minutes=meeting.duration_minutes) <= now,
        "meeting_history": list(meeting.history.select_related("history_user").order_by("-history_date", "-history_id"))
        if meeting is not None else [],
        "meeting_form": form or _meeting_form(postmortem, meeting=meeting),
    }


def _show(request, postmortem, status=200, **forms):
    return render(request, "postmortems/detail.html", _context(request, postmortem, **forms), status=status)


def _back(postmortem, anchor: str = ""):
    return redirect(reverse("postmortem-detail", args=[postmortem.pk]) + (f"#{anchor}" if anchor else ""))


@page
def postmortem_detail(request, pk):
    return _show(request, find_postmortem(request, pk))


def _form(request, postmortem, data=None) -> PostmortemForm:
    initial = {name: getattr(postmortem, name) for name in EDITABLE_FIELDS}
    initial["owner"] = postmortem.owner_id
    initial["version"] = postmortem.version
    initial["key_events"] = [e.pk for e in postmortem.events.all() if e.key]
    return PostmortemForm(data, initial=initial, people=assignable_people(postmortem.incident, request.user),
                          events=postmortem.events.all())


def _differences(form: PostmortemForm, postmortem) -> list[dict]:
    """Where the refused edit and the saved text differ: both, for the editor to merge."""
    differences = []
    for name in EDITABLE_FIELDS:
        if name not in form.cleaned_data:
            continue
        mine, theirs = form.cleaned_data[name], getattr(postmortem, name)
        if name == "owner":
            mine, theirs = (mine.display_name if mine else ""), (theirs.display_name if theirs else "")
        if (mine or "") != (theirs or ""):
            differences.append({"field": form.fields[name].label or name.replace("_", " ").capitalize(),
                                "name": name, "theirs": theirs, "mine": mine})
    return differences


@page
def postmortem_edit(request, pk):
    """The edit form. It carries the version it was opened at; a save from an older version than the one
    stored is refused (someone saved meanwhile), shown again with what they saved beside what was typed,
    and the form now carries the current version: saving again replaces theirs, knowingly."""
    postmortem = find_postmortem(request, pk)
    if not postmortem.editable:
        messages.error(request, "This postmortem is published: reopen it to edit it.")
        return _back(postmortem)
    form = _form(request, postmortem, request.POST if request.method == "POST" else None)
    differences, status = [], 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version, key_events = data.pop("version"), data.pop("key_events")
        try:
            update_postmortem(postmortem=postmortem, by=request.user, version=version, key_events=key_events, **data)
        except EditConflict as exc:
            current = find_postmortem(request, pk)
            differences = _differences(form, current)
            posted = request.POST.copy()
            posted["version"] = str(current.version)  # the editor has now seen the newer version
            form = _form(request, current, posted)
            form.is_valid()
            form.add_error(None, exc.message)
            postmortem, status = current, 409
        except PostmortemConflict as exc:
            messages.error(request, exc.message)
            return _back(postmortem)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            status = 400
        else:
            messages.success(request, "Postmortem saved.")
            return _back(postmortem)
    elif request.method == "POST":
        status = 400
    events = list(postmortem.events.all())
    chosen = {str(v) for v in (form["key_events"].value() or [])}
    return render(request, "postmortems/edit.html", {
        "postmortem": postmortem, "incident": postmortem.incident, "form": form, "differences": differences,
        "events": [{"event": e, "checked": str(e.pk) in chosen} for e in events],
    }, status=status)


@page
@require_POST
def postmortem_transition(request, pk, transition):
    postmortem = find_postmortem(request, pk)
    form = TransitionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        postmortem = transition_postmortem(postmortem=postmortem, transition=transition, by=request.user, note=note)
    except IllegalTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, form_errors(exc))
    else:
        messages.success(request, {
            "submit": "Submitted for review: someone other than its owner approves it, then it can be published.",
            "approve": "Approved.", "publish": "Published.", "reopen": "Reopened as a draft.",
        }[transition])
    return _back(postmortem)


def _refused(request, postmortem, exc) -> None:
    if isinstance(exc, PostmortemConflict):
        messages.error(request, exc.message)
    else:
        messages.error(request, form_errors(exc))


@page
@require_POST
def postmortem_reviewers(request, pk):
    postmortem = find_postmortem(request, pk)
    people = assignable_people(postmortem.incident, request.user)
    form = ReviewersForm(request.POST, people=people)
    if form.is_valid():
        try:
            added = request_review(postmortem=postmortem, reviewers=list(form.cleaned_data["reviewers"]),
                                   by=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            names = ", ".join(r.reviewer.display_name for r in added)
            messages.success(request, f"Review requested from {names}." if added else "They were asked already.")
            return _back(postmortem, "review")
    return _show(request, postmortem, status=400, reviewers_form=form)


@page
@require_POST
def postmortem_factor_add(request, pk):
    postmortem = find_postmortem(request, pk)
    form = FactorForm(request.POST, tags=factor_tags_for(postmortem.incident.team))
    if form.is_valid():
        try:
            add_factor(postmortem=postmortem, tag=form.cleaned_data["tag"],
                       description=form.cleaned_data["description"], by=request.user)
        except PostmortemConflict as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return _show(request, postmortem, status=400, factor_form=form)
        else:
            messages.success(request, f"Contributing factor added: {form.cleaned_data['tag'].name}.")
        return _back(postmortem, "factors")
    return _show(request, postmortem, status=400, factor_form=form)


@page
@require_POST
def postmortem_factor_remove(request, pk, factor):
    postmortem = find_postmortem(request, pk)
    found = get_object_or_404(ContributingFactor.objects.select_related("tag", "postmortem"), postmortem=postmortem,
                              pk=factor)
    try:
        remove_factor(factor=found, by=request.user)
    except (PostmortemConflict, ValidationError) as exc:
        _refused(request, postmortem, exc)
    else:
        messages.success(request, f"Contributing factor removed: {found.tag.name}.")
    return _back(postmortem, "factors")


@page
@require_POST
def postmortem_event_add(request, pk):
    postmortem = find_postmortem(request, pk)
    form = EventForm(request.POST)
    if form.is_valid():
        try:
            add_event(postmortem=postmortem, at=form.cleaned_data["at"], summary=form.cleaned_data["summary"],
                      by=request.user)
        except PostmortemConflict as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return _show(request, postmortem, status=400, event_form=form)
        else:
            messages.success(request, "Event added to the timeline, as a key event.")
        return _back(postmortem, "timeline")
    return _show(request, postmortem, status=400, event_form=form)


@page
@require_POST
def postmortem_action_item_add(request, pk):
    postmortem = find_postmortem(request, pk)
    form = ActionItemForm(request.POST, people=assignable_people(postmortem.incident, request.user))
    if form.is_valid():
        try:
            item = create_action_item(incident=postmortem.incident, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Action item added: {item.title}.")
            return _back(postmortem, "action-items")
    return _show(request, postmortem, status=400, item_form=form)


@page
@require_POST
def postmortem_refresh(request, pk):
    """Copy what changed on the incident since the draft was made: its facts and new timeline events."""
    postmortem = find_postmortem(request, pk)
    if postmortem.status != PostmortemStatus.DRAFT:
        messages.error(request, "Only a draft follows its incident; reopen it first.")
    elif not can_work(request.user, postmortem.incident):
        messages.error(request, "You may read this postmortem but not change it.")
    else:
        refresh_from_incident(postmortem=postmortem)
        messages.success(request, "Facts and timeline brought up to date with the incident.")
    return _back(postmortem)


@page
@require_POST
def postmortem_meeting(request, pk):
    """Schedule the review meeting, or move or change it: each attendee gets the calendar invitation."""
    postmortem = find_postmortem(request, pk)
    form = _meeting_form(postmortem, request.POST)
    if form.is_valid():
        now = timezone.now()
        try:
            meeting = schedule_meeting(postmortem=postmortem, by=request.user, now=now, **form.cleaned_data)
        except PostmortemConflict as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return _show(request, postmortem, status=400, meeting_form=form)
        else:
            if meeting.updated_at != now:
                messages.info(request, "Nothing changed: no invitation sent.")
            else:
                messages.success(request, f"Review meeting {'changed' if meeting.sequence else 'scheduled'}: "
                                          f"{len(form.cleaned_data['attendees'])} invitation(s) on the way.")
        return _back(postmortem, "meeting")
    return _show(request, postmortem, status=400, meeting_form=form)


@page
@require_POST
def postmortem_meeting_cancel(request, pk):
    postmortem = find_postmortem(request, pk)
    try:
        cancel_meeting(postmortem=postmortem, by=request.user)
    except (PostmortemConflict, ValidationError) as exc:
        _refused(request, postmortem, exc)
    else:
        messages.success(request, "Review meeting cancelled: each attendee is told.")
    return _back(postmortem, "meeting")
