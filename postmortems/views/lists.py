"""The lists: postmortems (mine, my teams', all I can see), my action items and a team's.

Each runs a constant number of queries per page, however many rows it holds; overdue rows are marked.
"""

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from incidents.views.common import page
from oncall.models import Team

from ..forms import PostmortemFilterForm
from ..queries import (
    action_items_for,
    in_list_order,
    is_overdue,
    postmortems_for,
    sort_action_items,
)

PAGE_SIZE = 50


@page
def postmortem_list(request):
    """Unpublished first (soonest due first), then published ones, newest first."""
    form = PostmortemFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    scope, status = data.get("scope") or "all", data.get("status") or ""
    postmortems = postmortems_for(request.user)
    if scope == "mine":
        postmortems = postmortems.filter(Q(owner=request.user) | Q(reviews__reviewer=request.user)).distinct()
    elif scope == "team":
        postmortems = postmortems.filter(incident__team__memberships__user=request.user)
    if status == "unpublished":
        postmortems = postmortems.unpublished()
    elif status:
        postmortems = postmortems.filter(status=status)
    postmortems = in_list_order(postmortems)
    page_obj = Paginator(postmortems, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = list(page_obj.object_list)
    for postmortem in rows:
        postmortem.overdue = is_overdue(postmortem, now)
    return render(request, "postmortems/list.html", {
        "form": form, "page_obj": page_obj, "postmortems": rows, "scope": scope, "status": status,
        "query": request.GET.urlencode(),
    })


def _items_page(request, items, *, title: str, intro: str, team=None):
    show = request.GET.get("show", "active")
    if show != "all":
        items = items.active()
    page_obj = Paginator(sort_action_items(items), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = list(page_obj.object_list)
    for item in rows:
        item.overdue = item.is_overdue(now)
    return render(request, "postmortems/action_items.html", {
        "title": title, "intro": intro, "team": team, "page_obj": page_obj, "items": rows, "show": show,
        "teams": Team.objects.visible_to(request.user).order_by("name") if request.user.is_staff
        else Team.objects.filter(memberships__user=request.user).order_by("name"),
    })


@page
def my_action_items(request):
    return _items_page(request, action_items_for(request.user).filter(owner=request.user), title="My action items",
                       intro="The action items you own, overdue ones marked; open and in progress first.")


@page
def team_action_items(request, slug):
    team = get_object_or_404(Team.objects.visible_to(request.user), slug=slug)
    return _items_page(request, action_items_for(request.user).filter(incident__team=team),
                       title=f"Action items of {team.name}",
                       intro="From the team's incidents and their postmortems, overdue ones marked.", team=team)
