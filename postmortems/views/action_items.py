"""One action item's page: read and change it, and move it through its states (won't do: with a reason)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.services import can_work
from incidents.views.common import page
from oncall.permissions import can_manage_team

from ..forms import ActionItemForm, ActionItemStatusForm, SendForm, apply_service_errors
from ..models import IssueTracker
from ..queries import action_items_for, assignable_people, postmortem_of
from ..services import IllegalStatus, allowed_statuses, set_action_item_status, update_action_item
from ..services.action_item import EDITABLE_FIELDS


def _item(request, pk):
    return get_object_or_404(action_items_for(request.user), pk=pk)


def _show(request, item, *, form=None, status_form=None, status=200):
    now = timezone.now()
    allowed = allowed_statuses(item)
    choices = [(value, label) for value, label in ActionItemStatusForm.base_fields["status"].choices
               if value in allowed]
    if status_form is None:
        status_form = ActionItemStatusForm(initial={"status": allowed[0] if allowed else ""})
    status_form.fields["status"].choices = choices
    postmortem = postmortem_of(item.incident)
    # Sending: the active trackers of the incident's team (none once it is sent).
    trackers = IssueTracker.objects.filter(team=item.incident.team_id, active=True).order_by("name", "id")
    sendable = [] if item.external_url else list(trackers)
    return render(request, "postmortems/action_item.html", {
        "trackers": sendable, "send_form": SendForm(trackers=trackers) if sendable else None,
        "can_manage_team": can_manage_team(request.user, item.incident.team),
        "item": item, "incident": item.incident, "postmortem": postmortem, "overdue": item.is_overdue(now),
        "can_work": can_work(request.user, item.incident),
        "form": form or ActionItemForm(initial={name: getattr(item, name) for name in EDITABLE_FIELDS} | {
            "owner": item.owner_id}, people=assignable_people(item.incident, request.user)),
        "status_form": status_form, "has_moves": bool(choices),
        "history": list(item.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]),
    }, status=status)


@page
def action_item_detail(request, pk):
    """The item, its edit form (POST saves it) and its history."""
    item = _item(request, pk)
    if request.method != "POST":
        return _show(request, item)
    form = ActionItemForm(request.POST, people=assignable_people(item.incident, request.user))
    if form.is_valid():
        try:
            update_action_item(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Action item saved.")
            return redirect("action-item-detail", pk=item.pk)
    return _show(request, item, form=form, status=400)


@page
@require_POST
def action_item_status(request, pk):
    item = _item(request, pk)
    form = ActionItemStatusForm(request.POST)
    if form.is_valid():
        try:
            item = set_action_item_status(item=item, status=form.cleaned_data["status"], by=request.user,
                                          reason=form.cleaned_data["reason"])
        except IllegalStatus as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return _show(request, item, status_form=form, status=400)
        else:
            messages.success(request, f"Action item is now {item.get_status_display().lower()}.")
        return redirect("action-item-detail", pk=item.pk)
    return _show(request, item, status_form=form, status=400)
