"""The contributing-factor vocabulary: the tags every team shares, and each of your teams' own.

Members add, rename, retire and bring back their team's tags; staff keep the shared ones in the admin.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from incidents.views.common import page
from oncall.models import Team

from ..forms import FactorTagForm, apply_service_errors, form_errors
from ..models import FactorTag
from ..services import create_factor_tag, update_factor_tag


def _my_teams(user):
    return Team.objects.filter(memberships__user=user).order_by("name").distinct()


def _show(request, form, status=200):
    teams = list(_my_teams(request.user))
    tags = (FactorTag.objects.filter(Q(team__isnull=True) | Q(team__in=teams)).select_related("team")
            .annotate(uses=Count("factors")).order_by("team__name", "name"))
    shared = [t for t in tags if t.team_id is None]
    own = [t for t in tags if t.team_id is not None]
    return render(request, "postmortems/factors.html", {"form": form, "shared": shared, "own": own, "teams": teams},
                  status=status)


@page
@require_http_methods(["GET", "HEAD", "POST"])
def factor_tags(request):
    """The vocabulary; a POST adds a tag to one of the reader's teams."""
    teams = _my_teams(request.user)
    if request.method != "POST":
        return _show(request, FactorTagForm(teams=teams))
    form = FactorTagForm(request.POST, teams=teams)
    if form.is_valid():
        try:
            tag = create_factor_tag(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Tag {tag.name!r} added for {tag.team.name}.")
            return redirect("postmortem-factors")
    return _show(request, form, status=400)


@page
@require_POST
def factor_tag_toggle(request, pk):
    """Retire a team tag (it stays on postmortems that use it) or bring it back."""
    tag = get_object_or_404(FactorTag.objects.filter(team__in=_my_teams(request.user)).select_related("team"), pk=pk)
    try:
        tag = update_factor_tag(tag=tag, by=request.user, active=not tag.active)
    except ValidationError as exc:
        messages.error(request, form_errors(exc))
    else:
        messages.success(request, f"Tag {tag.name!r} {'is offered again' if tag.active else 'is retired'}.")
    return redirect("postmortem-factors")
