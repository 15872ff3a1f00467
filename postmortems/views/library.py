"""The library: published postmortems searched by text and filtered, and "similar past incidents" on an
incident's page (a panel registered with ``incidents.panels``; ``PostmortemsConfig.ready`` imports this module).

Both show only what the reader may see and run a constant number of queries, however many rows match.
"""

from django import forms
from django.core.paginator import Paginator
from django.db.models import Min, Q
from django.db.models.functions import Lower
from django.shortcuts import render

from incidents.models import Category, Service, Severity
from incidents.panels import register_incident_panel
from incidents.views.common import page
from oncall.models import Team

from ..forms import Form
from ..library import NEWEST, filtered, first_line, library_for, search, similar_to
from ..models import FactorTag

PAGE_SIZE = 25


class LibraryForm(Form):
    """The library's GET form: words, and the filters a reader may choose among."""

    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Words, \"a phrase\", -not"}))
    team = forms.ChoiceField(required=False)
    service = forms.ChoiceField(required=False)
    category = forms.ChoiceField(required=False, choices=[("", "Any category"), *Category.choices])
    severity = forms.ChoiceField(required=False)
    factor = forms.ChoiceField(required=False, label="Contributing factor")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.visible_to(user).distinct().order_by("name")
        self.fields["team"].choices = [("", "Any team"), *teams.values_list("slug", "name")]
        services = Service.objects.visible_to(user).order_by("name")
        self.fields["service"].choices = [("", "Any service"), *services.values_list("slug", "name")]
        self.fields["severity"].choices = [("", "Any severity"),
                                           *((name, name) for name in Severity.objects.values_list("name", flat=True))]
        # Tags by name: everyone's and the reader's teams' (a retired tag still names old factors).
        tags = (FactorTag.objects.filter(Q(team__isnull=True) | Q(team__in=teams))
                .values(lower=Lower("name")).annotate(shown=Min("name")).order_by("lower"))
        self.fields["factor"].choices = [("", "Any factor"), *((t["shown"], t["shown"]) for t in tags)]
        for name, field in self.fields.items():  # the filter bar shows no labels; screen readers get one
            field.widget.attrs.setdefault("aria-label", str(field.label or name.title()))


@page
def library(request):
    """Published postmortems, best match first when searching, else newest first; 400 for an unknown filter."""
    form = LibraryForm(request.GET or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    q = data.get("q", "")
    filters = {name: data.get(name, "") for name in ("team", "service", "category", "severity", "factor")}
    postmortems = filtered(library_for(request.user), **filters) if valid else library_for(request.user).none()
    postmortems = search(postmortems, q) if q.strip() else postmortems.order_by(*NEWEST)
    page_obj = Paginator(postmortems, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page_obj.object_list)
    for postmortem in rows:
        postmortem.cause_line = first_line(postmortem.root_cause) or first_line(postmortem.summary)
    query = request.GET.copy()  # the pager keeps the search and filters
    query.pop("page", None)
    context = {"form": form, "page_obj": page_obj, "postmortems": rows, "q": q, "query": query.urlencode(),
               "searching": bool(q.strip()), "filtering": any(filters.values())}
    template = "postmortems/_library_results.html" if request.htmx else "postmortems/library.html"
    return render(request, template, context, status=200 if valid else 400)


def similar_panel(request, incident) -> tuple[str, dict] | None:
    """The incident page's "Similar past incidents": none shown when there are none. One query."""
    found = similar_to(incident, request.user)
    if not found:
        return None
    for postmortem in found:
        postmortem.cause_line = first_line(postmortem.root_cause)
    return "postmortems/_similar_panel.html", {"incident": incident, "similar": found}


register_incident_panel(similar_panel)
