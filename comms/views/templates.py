"""Communication templates in the browser (/comms/templates/): the list, and one page per template.

Anyone logged in reads the organisation's templates and their own teams' overrides (staff: every team's)
and previews them with a recent incident they can see; staff change the organisation's, a team's leads
and managers (and staff) add, change and remove their team's override. Another team's page does not
exist here (404). "Preview" renders the text as typed, unsaved, with a real incident: the whole page
without JavaScript, only the preview block with htmx. Writes go through ``comms.services``.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from incidents.forms import apply_service_errors
from incidents.models import Incident, StatusUpdate
from incidents.views.common import page
from oncall.models import Membership, Team
from oncall.permissions import MANAGING_ROLES, can_manage_team

from .. import services, templating
from ..forms import TemplateForm
from ..models import PUBLIC_KINDS, CommTemplate, TemplateKind

RECENT_INCIDENTS = 20


def _kind(kind: str) -> str:
    if kind not in TemplateKind.values:
        raise Http404("No such kind of template.")
    return kind


def _team(request, slug: str) -> Team:
    team = Team.objects.visible_to(request.user).filter(slug=slug).distinct().first()
    if team is None:
        raise Http404("No such team among yours.")
    return team


def _list_url(kind: str) -> str:
    return reverse("comms:templates") + f"#kind-{kind}"


@page
@require_GET
def template_list(request):
    """Every kind: the organisation's template and the overrides of the reader's teams. Three queries."""
    user = request.user
    teams = list(Team.objects.visible_to(user).distinct().order_by("name"))
    if user.is_staff:
        managed = {team.pk for team in teams}
    else:
        managed = set(Membership.objects.filter(user=user, role__in=MANAGING_ROLES).values_list("team_id", flat=True))
    rows = CommTemplate.objects.filter(Q(team__isnull=True) | Q(team__in=[t.pk for t in teams])).select_related(
        "team", "updated_by")
    org, overrides = {}, {}
    for row in rows:
        if row.team_id is None:
            org[row.kind] = row
        else:
            overrides.setdefault(row.kind, []).append(row)
    kinds = []
    for kind, label in TemplateKind.choices:
        own = sorted(overrides.get(kind, []), key=lambda t: t.team.name)
        having = {t.team_id for t in own}
        kinds.append({
            "kind": kind, "label": label, "public": kind in PUBLIC_KINDS, "org": org.get(kind),
            "default_subject": templating.DEFAULTS[kind][0],
            "overrides": [{"template": t, "can_edit": t.team_id in managed} for t in own],
            "addable": [t for t in teams if t.pk in managed and t.pk not in having],
        })
    return render(request, "comms/templates.html", {"kinds": kinds, "teams": teams})


def _recent_incidents(request, team: Team | None) -> list[Incident]:
    found = Incident.objects.visible_to(request.user)
    if team is not None:
        found = found.filter(team=team)
    return list(found.order_by("-created_at", "-id")[:RECENT_INCIDENTS])


def _preview(request, number: str, subject: str, body: str) -> dict | None:
    """``subject`` and ``body`` (valid, unsaved) rendered with the incident ``number``, or None if the reader
    can see no such incident. The next update is the one the incident's latest update promised."""
    incident = templating.prefetch_context(Incident.objects.visible_to(request.user)).filter(number=number).first()
    if incident is None:
        return None
    promised = (StatusUpdate.objects.filter(incident=incident, next_update_at__isnull=False)
                .order_by("-created_at", "-id").values_list("next_update_at", flat=True).first())
    context = templating.context_for(incident, now=timezone.now(), next_update_at=promised)
    rendered_subject, rendered_body = templating.render_pair(subject, body, context)
    return {"incident": incident, "subject": rendered_subject, "body": rendered_body, "zone": incident.team.timezone}


def _preview_posted(request, form: TemplateForm) -> dict | None:
    number = form.cleaned_data.get("incident")
    if not number:
        form.add_error("incident", "Choose an incident to preview with.")
        return None
    preview = _preview(request, number, form.cleaned_data["subject"], form.cleaned_data["body"])
    if preview is None:  # the choices are the reader's own incidents: only a forged form gets here
        form.add_error("incident", "No such incident among those you can see.")
    return preview


@page
@require_http_methods(["GET", "POST"])
def template_edit(request, kind, team_slug=None):
    """The organisation's template of ``kind`` (no ``team_slug``), or a team's override of it."""
    kind = _kind(kind)
    team = _team(request, team_slug) if team_slug is not None else None
    rows = CommTemplate.objects.filter(kind=kind).filter(Q(team__isnull=True) | Q(team=team) if team else
                                                         Q(team__isnull=True)).select_related("updated_by")
    org = next((t for t in rows if t.team_id is None), None)
    template = next((t for t in rows if t.team_id is not None), None) if team else org
    can_edit = can_manage_team(request.user, team) if team else request.user.is_staff
    fallback = (org.subject, org.body) if org else templating.DEFAULTS[kind]
    initial = {"subject": template.subject, "body": template.body} if template else dict(
        zip(("subject", "body"), fallback, strict=True))
    incidents = _recent_incidents(request, team)
    if incidents:
        initial["incident"] = incidents[0].number
    action = request.POST.get("action", "save") if request.method == "POST" else None
    here = request.path

    if action == "remove":
        if template is None or team is None:
            messages.info(request, "There is no override to remove.")
            return redirect(here)
        services.delete_template(template=template, by=request.user)
        messages.success(request, f"Override removed: {team.name} uses the organisation's "
                                  f"{template.get_kind_display().lower()} template again.")
        return redirect(_list_url(kind))

    form = TemplateForm(request.POST if action else None, initial=initial, kind=kind, incidents=incidents)
    preview = None
    if action is None and incidents and not (templating.problems_in(initial["subject"], kind=kind)
                                             or templating.problems_in(initial["body"], kind=kind)):
        # Shown at once with the newest incident: what the text looks like is the first question.
        preview = _preview(request, incidents[0].number, initial["subject"], initial["body"])
    elif action == "preview":
        if form.is_valid():
            preview = _preview_posted(request, form)
        if request.htmx:
            return render(request, "comms/_template_preview.html", {
                "form": form, "preview": preview, "incidents": incidents, "team": team, "partial": True})
    elif action is not None:  # save
        services.require_template_editor(request.user, team)
        if form.is_valid():
            try:
                services.save_template(team=team, kind=kind, subject=form.cleaned_data["subject"],
                                       body=form.cleaned_data["body"], by=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                whose = f"The override of {team.name} for" if team else "The organisation's template for"
                messages.success(request, f"{whose} {TemplateKind(kind).label.lower()} saved.")
                return redirect(_list_url(kind))

    history = list(template.history.select_related("history_user").order_by("-history_date", "-history_id")[:5]
                   ) if template else []
    return render(request, "comms/template_edit.html", {
        "kind": kind, "kind_label": TemplateKind(kind).label, "public": kind in PUBLIC_KINDS, "team": team,
        "template": template, "org": org, "can_edit": can_edit, "form": form, "preview": preview,
        "incidents": incidents, "history": history,
        "placeholders": [{"name": name, "description": text,
                          "refused": kind in PUBLIC_KINDS and name in templating.PRIVATE_PLACEHOLDERS}
                         for name, text in templating.PLACEHOLDERS.items()],
    })
