"""On-call pages. Thin: find the team (404 if the person may not see it), read a query, or validate a
form and call a service. Everything works with plain HTML forms, no JavaScript.
"""

import csv
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone as djtz
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.instants import EARLIEST, LATEST

from . import services
from .calendar_feed import build_calendar, feed_window
from .forms import (
    HandoffNoteForm,
    OverrideForm,
    ParticipantsForm,
    PolicyForm,
    RotationForm,
    ScheduleImportForm,
    SwapForm,
)
from .models import CalendarToken, EscalationPolicy, SwapRequest, Team
from .permissions import can_manage_team, require_team_manager
from .queries import (
    load_limit_hours,
    open_swaps_for,
    team_handoff_notes,
    team_load,
    team_open_swaps,
    team_overview,
    team_shifts,
    user_shifts,
)
from .schedule import who_is_on_call
from .schedule_files import export_schedule
from .services.escalation import TO as CHANGE_POLICIES
from .targets import describe_steps, target_names


def _team(request, slug) -> Team:
    team = Team.objects.visible_to(request.user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team among yours.")
    return team


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def oncall_now(request):
    """Organisation-wide: who is on call right now in every team, per layer."""
    now = djtz.now()
    visible = set(Team.objects.visible_to(request.user).values_list("pk", flat=True))
    rows = who_is_on_call(now, include_gaps=True)
    return render(request, "oncall/now.html", {"rows": rows, "now": now, "visible": visible})


@login_required
def team_page(request, slug):
    team = _team(request, slug)
    now = djtz.now()
    context = {
        "team": team,
        "now": now,
        "layers": team_overview(team, now),
        "notes": team_handoff_notes(team, now - timedelta(days=7)),
        "swaps": team_open_swaps(team),
        "can_manage": can_manage_team(request.user, team),
        "override_form": OverrideForm(team=team),
        "swap_form": SwapForm(team=team),
        "note_form": HandoffNoteForm(team=team),
        "participants_form": ParticipantsForm(team=team),
        "import_form": ScheduleImportForm(),
        "calendar_token": CalendarToken.objects.filter(team=team).first(),
        "policies": _policies_in_words(team),
    }
    return render(request, "oncall/team.html", context)


@login_required
def my_shifts(request):
    now = djtz.now()
    context = {
        # Whole shifts: one running at the window's edge shows its real end, not the edge.
        "shifts": user_shifts(request.user, now - timedelta(days=1), now + timedelta(days=28), whole=True),
        "swaps": open_swaps_for(request.user),
        "calendar_token": CalendarToken.objects.filter(user=request.user).first(),
        "now": now,
    }
    return render(request, "oncall/me.html", context)


@login_required
def rotation_new(request, slug):
    team = _team(request, slug)
    require_team_manager(request.user, team, to="create rotations")
    form = RotationForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_rotation(team=team, by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, f"Rotation {form.cleaned_data['name']} created.")
            return redirect("oncall-team", slug=team.slug)
    return render(request, "oncall/rotation_form.html", {"team": team, "form": form})


def _team_form_post(request, slug, form_class, action, success):
    team = _team(request, slug)
    form = form_class(request.POST, team=team)
    if form.is_valid():
        try:
            action(team, form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, success)
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field}: {error}" if field != "__all__" else error)
    return redirect("oncall-team", slug=team.slug)


@login_required
@require_POST
def override_new(request, slug):
    def act(team, d):
        services.create_override(rotation=d["rotation"], user=d["user"], start=d["start"], end=d["end"],
                                 reason=d["reason"], by=request.user)
    return _team_form_post(request, slug, OverrideForm, act, "Override saved.")


@login_required
@require_POST
def swap_new(request, slug):
    def act(team, d):
        services.request_swap(rotation=d["rotation"], requester=request.user, recipient=d["recipient"],
                              start=d["start"], end=d["end"], message=d["message"])
    return _team_form_post(request, slug, SwapForm, act, "Swap requested; both of you got an email.")


@login_required
@require_POST
def participants_change(request, slug):
    def act(team, d):
        services.set_participants(rotation=d["rotation"], participants=d["participants"], effective_from=d["start"],
                                  by=request.user)
    return _team_form_post(request, slug, ParticipantsForm, act, "Participants changed from the chosen moment.")


@login_required
@require_POST
def note_new(request, slug):
    def act(team, d):
        services.write_handoff_note(rotation=d["rotation"], author=request.user, body=d["body"])
    return _team_form_post(request, slug, HandoffNoteForm, act, "Hand-off note saved for the next person.")


@login_required
@require_POST
def swap_decide(request, pk, decision):
    swap = get_object_or_404(SwapRequest.objects.select_related("rotation__team"), pk=pk)
    _team(request, swap.rotation.team.slug)
    action = {"accept": services.accept_swap, "decline": services.decline_swap, "cancel": services.cancel_swap}
    if decision not in action:
        raise Http404("Unknown decision.")
    try:
        action[decision](swap=swap, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, {"accept": "Swap accepted.", "decline": "Swap declined.",
                                    "cancel": "Swap cancelled."}[decision])
    return HttpResponseRedirect(_local_next(request) or reverse("oncall-me"))


def _local_next(request) -> str | None:
    """The page to return to, if it is one of ours: never another site (an open redirect), nor a script."""
    target = request.POST.get("next", "")
    # A path of this site, as the pages send (request.path): not a relative path, which resolves against this URL.
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                                  require_https=request.is_secure()):
        return target
    return None


@login_required
@require_POST
def rotate_token(request):
    slug = request.POST.get("team")
    if slug:
        team = _team(request, slug)
        services.rotate_calendar_token(team=team, by=request.user)
        messages.success(request, "New team calendar link; the old one no longer works.")
        return redirect("oncall-team", slug=team.slug)
    services.rotate_calendar_token(user=request.user)
    messages.success(request, "New calendar link; the old one no longer works.")
    return redirect("oncall-me")


def calendar_feed(request, token):
    """No login (calendar apps cannot log in): the secret token is the credential."""
    found = CalendarToken.objects.select_related("user", "team").filter(token=token).first()
    if found is None:
        raise Http404("Unknown calendar link.")
    now = djtz.now()
    start, end = feed_window(now)
    if found.user is not None:
        shifts, name = user_shifts(found.user, start, end), f"On call: {found.user.display_name}"
    else:
        shifts, name = team_shifts(found.team, start, end), f"On call: {found.team.name}"
    response = HttpResponse(build_calendar(name, shifts, now), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    return response


def _month(value: str | None) -> date:
    """The first day of ``?from=YYYY-MM`` (this month if absent or unreadable); ValueError out of range."""
    if value:
        try:
            first = date.fromisoformat(f"{value}-01")
        except ValueError:
            pass
        else:
            if not EARLIEST.date() <= first < LATEST.date():
                raise ValueError(f"The month {value} is outside the dates Vigil accepts; "
                                 f"give one from {EARLIEST:%Y-%m} to {LATEST.year - 1}-12.")
            return first
    return djtz.now().date().replace(day=1)


def _months(request) -> int:
    value = request.GET.get("months", "")
    # isdigit() alone accepts digits that int() refuses, such as "²".
    return min(max(int(value), 1), 12) if value.isascii() and value.isdigit() else 3


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@login_required
def load_page(request, slug):
    team = _team(request, slug)
    try:
        first = _month(request.GET.get("from"))
    except ValueError as exc:
        return _bad_request(str(exc))
    months = _months(request)
    now = djtz.now()
    rows = team_load(team, first, months, now=now)
    return render(request, "oncall/load.html", {"team": team, "rows": rows, "first": first, "months": months,
                                                "limit": load_limit_hours(), "now": now})


@login_required
def load_csv(request, slug):
    team = _team(request, slug)
    try:
        first = _month(request.GET.get("from"))
    except ValueError as exc:
        return _bad_request(str(exc))
    months = _months(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{team.slug}-oncall-load.csv"'
    writer = csv.writer(response)
    # One row per person, layer and month; the first eight columns are those of before layers counted apart,
    # in the same places, so existing sheets keep reading them.
    writer.writerow(["month", "username", "name", "business_hours", "night_hours", "weekend_hours",
                     "total_hours", "over_limit", "layer", "worked_hours", "scheduled_hours"])
    for row in team_load(team, first, months, now=djtz.now()):
        writer.writerow([row.month.strftime("%Y-%m"), row.user.username, row.user.display_name,
                         f"{row.business:.2f}", f"{row.nights:.2f}", f"{row.weekends:.2f}", f"{row.total:.2f}",
                         "yes" if row.over_limit else "no", row.layer, f"{row.worked:.2f}",
                         f"{row.scheduled:.2f}"])
    return response


@login_required
def schedule_yaml(request, slug):
    team = _team(request, slug)
    if request.method == "POST":
        form = ScheduleImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                counts = services.import_schedule(team=team, text=form.cleaned_data["yaml"], by=request.user)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                changed = sum(counts.values())
                messages.success(request, "Imported: " + (", ".join(f"{k} {v}" for k, v in counts.items() if v)
                                                         if changed else "nothing changed."))
        else:
            for error in form.non_field_errors():
                messages.error(request, error)
        return redirect("oncall-team", slug=team.slug)
    response = HttpResponse(export_schedule(team), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{team.slug}-schedule.yaml"'
    return response


# --- Escalation policies -------------------------------------------------------------------

def _policies_in_words(team: Team) -> list[EscalationPolicy]:
    """The team's policies, default first, each with ``in_words``: four queries however many."""
    policies = list(EscalationPolicy.objects.filter(team=team).order_by("-is_default", "name"))
    names = target_names([p.steps for p in policies])
    for policy in policies:
        policy.in_words = describe_steps(policy.steps, names, team)
    return policies


def _policy(request, slug, pk) -> tuple[Team, EscalationPolicy]:
    team = _team(request, slug)
    policy = EscalationPolicy.objects.filter(team=team, pk=pk).first()
    if policy is None:
        raise Http404("No such escalation policy in this team.")
    return team, policy


def _policies_url(team: Team) -> str:
    return reverse("oncall-team", args=[team.slug]) + "#policies"


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request, slug):
    team = _team(request, slug)
    require_team_manager(request.user, team, to=CHANGE_POLICIES)
    form = PolicyForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.create_policy(team=team, by=request.user, **form.policy_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Escalation policy {policy.name} created.")
            return redirect(_policies_url(team))
    return render(request, "oncall/policy_form.html", {"team": team, "form": form, "policy": None})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, slug, pk):
    """Leads and managers edit; members see the policy in words (and a POST from them is a 403)."""
    team, policy = _policy(request, slug, pk)
    if request.method == "POST":
        require_team_manager(request.user, team, to=CHANGE_POLICIES)
    elif not can_manage_team(request.user, team):
        names = target_names([policy.steps])
        policy.in_words = describe_steps(policy.steps, names, team)
        return render(request, "oncall/policy_view.html", {"team": team, "policy": policy})
    form = PolicyForm(request.POST or None, team=team, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.update_policy(policy=policy, by=request.user, **form.policy_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Escalation policy {policy.name} saved.")
            return redirect(_policies_url(team))
    return render(request, "oncall/policy_form.html", {"team": team, "form": form, "policy": policy})


@login_required
@require_http_methods(["GET", "POST"])
def policy_delete(request, slug, pk):
    """A confirmation page naming the services that use the policy; the POST deletes it."""
    team, policy = _policy(request, slug, pk)
    require_team_manager(request.user, team, to=CHANGE_POLICIES)
    if request.method == "POST":
        services.delete_policy(policy=policy, by=request.user)
        messages.success(request, f"Escalation policy {policy.name} deleted.")
        return redirect(_policies_url(team))
    # The services app's rows, read through the policy's reverse relations (oncall does not import incidents).
    return render(request, "oncall/policy_delete.html", {
        "team": team, "policy": policy,
        "services": list(policy.services.order_by("name")),
        "by_severity": list(policy.severity_services.select_related("service", "severity")
                            .order_by("service__name", "severity__rank")),
    })
