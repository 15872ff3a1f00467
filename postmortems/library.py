"""The library's read side: published postmortems found by text and filters, and similar past incidents.

One search serves the library page and the API's ``?q=``. On PostgreSQL it is full-text search, ranked:
the incident's number and title, the summary and the root cause weigh most (A), then the impact, the
lessons and what could improve (B), then the rest of the document (C); the query is read as a web search
(``"a phrase"``, ``-word``, ``or``). On SQLite every word must appear, in any case, in one of the same
fields; newest first. That difference is the one branch in ``search``; the filters, permissions and
pagination around it are the same on both.

PostgreSQL searches a stored document (``Postmortem.search_document``, GIN-indexed by migration 0004), not
one computed per search: parsing every postmortem's text on every search costs about 2 ms a postmortem (40 s
for 20,000), and ranking would parse the matches once more. The document spans two tables (the incident's
title, the postmortem's sections), which no expression index can, so it is a column, written by
``keep_search_document`` whenever a postmortem is saved or its incident's title changes (``receivers``).
"""

from functools import reduce
from html import unescape
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat
from django.utils.html import strip_tags
from django.utils.text import Truncator

from incidents.models import Incident

from .markdown import render
from .models import ContributingFactor, Postmortem, PostmortemStatus

# The postmortem's fields searched, by weight (PostgreSQL ranks an A match above B above C); the incident's
# number and title weigh A too.
WEIGHTS = {
    "A": ["summary", "root_cause"],
    "B": ["impact", "lessons", "to_improve"],
    "C": ["detection", "detection_sooner", "response", "went_well"],
}
SEARCHED_FIELDS = {field for fields in WEIGHTS.values() for field in fields}
# The text search configuration: English stemming ("timeouts" finds "timeout") and stop words.
LANGUAGE = "english"
NEWEST = (F("published_at").desc(nulls_last=True), "-created_at", "-id")
SIMILAR_LIMIT = 5



def keep_search_document(postmortems: QuerySet[Postmortem]) -> None:
    """Store the weighted search document of ``postmortems`` (PostgreSQL; SQLite matches the text itself).

    One UPDATE. A derived column, not an edit: it is left out of the history, hence ``update()``.
    """
    if connection.vendor != "postgresql":
        return
    label = Subquery(Incident.objects.filter(pk=OuterRef("incident_id"))
                     .annotate(label=Concat("number", Value(" "), "title")).values("label")[:1])
    document = SearchVector(label, *WEIGHTS["A"], weight="A", config=LANGUAGE)
    for weight in ("B", "C"):
        document += SearchVector(*WEIGHTS[weight], weight=weight, config=LANGUAGE)
    postmortems.update(search_document=document)


def search(postmortems: QuerySet[Postmortem], q: str) -> QuerySet[Postmortem]:
    """``postmortems`` matching ``q``, best first: by rank on PostgreSQL, newest first on SQLite.

    Blank ``q``: all of them, in the caller's order.
    """
    words = q.split()
    if not words:
        return postmortems
    if connection.vendor == "postgresql":
        query = SearchQuery(q, search_type="websearch", config=LANGUAGE)
        return (postmortems.filter(search_document=query)
                .annotate(rank=SearchRank(F("search_document"), query)).order_by("-rank", *NEWEST))
    fields = ["incident__number", "incident__title", *SEARCHED_FIELDS]
    every_word = reduce(and_, (reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields))
                               for word in words))
    return postmortems.filter(every_word).order_by(*NEWEST)


def filtered(postmortems: QuerySet[Postmortem], *, team: str = "", service: str = "", category: str = "",
             severity: str = "", factor: str = "") -> QuerySet[Postmortem]:
    """``postmortems`` of a team (slug), touching a service (slug), of a category, a severity (``SEV1``) and
    naming a contributing-factor tag (by name, any case); a blank filter is no filter. No duplicates."""
    if team:
        postmortems = postmortems.filter(incident__team__slug=team)
    if service:
        postmortems = postmortems.filter(incident__services__slug=service)  # one row per incident and service
    if category:
        postmortems = postmortems.filter(incident__category=category)
    if severity:
        postmortems = postmortems.filter(incident__severity__name=severity)
    if factor:
        postmortems = postmortems.filter(Exists(ContributingFactor.objects.filter(
            postmortem=OuterRef("pk"), tag__name__iexact=factor)))
    return postmortems


def library_for(user) -> QuerySet[Postmortem]:
    """Published postmortems the user may see, with what a library row shows: constant queries."""
    return (Postmortem.objects.visible_to(user).filter(status=PostmortemStatus.PUBLISHED)
            .select_related("incident__severity", "incident__team")
            .prefetch_related(Prefetch("factors", queryset=ContributingFactor.objects.select_related("tag")),
                              "incident__services"))


def similar_to(incident: Incident, user, limit: int = SIMILAR_LIMIT) -> list[Postmortem]:
    """Published postmortems (the user may see) of other incidents sharing a service with ``incident`` or its
    category: most services shared first, then the same category, then the most recent. One query."""
    services = Incident.services.through.objects.filter(incident_id=incident.pk).values("service_id")
    shared = Incident.services.through.objects.filter(
        incident_id=OuterRef("incident_id"), service_id__in=services).values("incident_id").annotate(
        n=Count("pk")).values("n")
    same_category = Case(When(incident__category=incident.category, then=Value(1)), default=Value(0),
                         output_field=IntegerField())
    found = (Postmortem.objects.visible_to(user).filter(status=PostmortemStatus.PUBLISHED)
             .exclude(incident=incident).select_related("incident__severity", "incident__team")
             .annotate(shared=Coalesce(Subquery(shared, output_field=IntegerField()), 0),
                       same_category=same_category)
             .filter(Q(shared__gt=0) | Q(same_category=1))
             .order_by("-shared", "-same_category", "-incident__created_at", "-id"))
    return list(found[:limit])


def first_line(text: str, length: int = 160) -> str:
    """The first non-blank line of ``text`` (Markdown) as plain text — no list or heading marker, no
    emphasis — shortened."""
    for line in text.splitlines():
        line = line.strip().lstrip("#>*-+ ").strip()
        if line:
            return Truncator(unescape(strip_tags(render(line))).strip()).chars(length)
    return ""
