"""The public status page: HTML, Statuspage-shaped JSON and an Atom feed. No login; read-only.

Every response is the same for every reader (UTC times, no session read: ``config.middleware``), so it
carries ``Cache-Control: public, max-age=30`` and no ``Vary: Cookie``: browsers and shared caches keep it
for everyone, at most 30 s, which bounds how late a reader learns of an update during an outage. An ETag
and Last-Modified from ``queries.version`` let a cache revalidate with a 304.

Repeat requests are served from the server's cache (``comms.status_cache``): the version from the cache
(moved by every change the page may show), the rendering under the version's ETag; no query, no render.
"""

import hashlib

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import condition, require_safe

from oncall.models import Team

from .. import queries, status_cache

MAX_AGE = 30


def _team(slug):
    if slug is None:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise Http404("No such status page.")
    return team


def _compute_validators(path: str, team_slug) -> tuple[str, object]:
    found = queries.version(team=_team(team_slug))
    source = f"{path}:{found.changed.isoformat()}:{found.components}"
    return hashlib.sha256(source.encode()).hexdigest()[:32], found.changed


def _validators(request, team_slug=None) -> tuple[str, object]:
    """The ETag and Last-Modified of this request, read once (``condition`` asks for each)."""
    if not hasattr(request, "_status_validators"):
        request._status_validators = status_cache.version(
            request.path, lambda: _compute_validators(request.path, team_slug))
    return request._status_validators


def _etag(request, team_slug=None):
    return _validators(request, team_slug)[0]


def _last_modified(request, team_slug=None):
    return _validators(request, team_slug)[1]


def _personal(request, response) -> bool:
    """Whether this rendering is one reader's: it set a cookie, made a CSRF token (whose cookie the
    middleware sets later) or read the session (``Vary: Cookie``). Such a page must be kept by no one;
    none of the status pages does any of it (tests/comms/test_status_cache.py), this is the safety net."""
    session = getattr(request, "session", None)
    return bool(response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
                or (session is not None and session.accessed))


def _from_server_cache(view):
    """The view's rendering for this ETag from the server's cache, or the view's, kept for the next reader."""

    def cached(request, *args, **kwargs):
        # One rendering per address asked (the bodies hold absolute links); the host is one of ALLOWED_HOSTS.
        address = f"{request.scheme}://{request.get_host()}{request.path}"
        key = status_cache.rendering_key(address, _etag(request, *args, **kwargs))
        hit = status_cache.rendering(key)
        if hit is not None:
            content_type, content = hit
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not _personal(request, response):
            status_cache.keep_rendering(key, (response["Content-Type"], response.content))
        return response

    return cached


def _cacheable(view):
    """Conditional GET (304 on a matching ETag or an unchanged Last-Modified), the server's cache, and
    public caching."""
    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(_from_server_cache(view))

    def wrapped(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        if _personal(request, response):
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=MAX_AGE)
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_safe(wrapped)


def _page_url(request, team) -> str:
    return request.build_absolute_uri(f"/status/{team.slug}/" if team else "/status/")


@_cacheable
def status_page(request, team_slug=None):
    """The status page of every team, or of one."""
    team = _team(team_slug)
    page = queries.status_page(team=team)
    incidents = [(i, queries.components_of(i, page)) for i in page.incidents]
    return render(request, "comms/status_page.html", {"page": page, "team": team, "incidents": incidents})


# --- Statuspage-shaped JSON (https://developer.statuspage.io/ , the public /api/v2/ endpoints) -------------

def _page_json(request, page) -> dict:
    team = page.team
    return {
        "id": team.slug if team else "vigil",
        "name": f"{team.name} status" if team else "Vigil status",
        "url": _page_url(request, team),
        "time_zone": "Etc/UTC",
        "updated_at": page.updated_at.isoformat(),
    }


def _components_json(page) -> list[dict]:
    page_id = page.team.slug if page.team else "vigil"
    return [{
        "id": str(view.component.pk),
        "name": view.component.name,
        "status": view.status,
        "created_at": view.component.created_at.isoformat(),
        "updated_at": view.component.updated_at.isoformat(),
        "position": view.component.position,
        "description": view.component.description or None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": page_id,
        "group": False,
        "only_show_if_degraded": False,
    } for view in page.components]


def _incident_json(request, page, public) -> dict:
    incident = public.incident
    page_id = page.team.slug if page.team else "vigil"
    monitoring = next((u.created_at for u in reversed(public.updates) if u.state == "monitoring"), None)
    return {
        "id": incident.number,
        "name": incident.title,
        "status": public.state,
        "created_at": public.public_since.isoformat(),
        "updated_at": public.updated_at.isoformat(),
        "monitoring_at": monitoring.isoformat() if monitoring else None,
        "resolved_at": public.public_until.isoformat() if public.public_until else None,
        "impact": public.impact,
        "shortlink": _page_url(request, page.team) + f"#{incident.number}",
        "started_at": public.public_since.isoformat(),
        "page_id": page_id,
        "incident_updates": [{
            "id": str(update.pk),
            "status": update.state,
            "body": update.body,
            "incident_id": incident.number,
            "created_at": update.created_at.isoformat(),
            "updated_at": update.created_at.isoformat(),
            "display_at": update.created_at.isoformat(),
            "affected_components": None,
        } for update in public.updates],
        "components": [{"id": str(c.pk), "name": c.name} for c in queries.components_of(public, page)],
    }


def _maintenance_json(request, page, window) -> dict:
    started = window.starts_at <= page.now
    return {
        "id": f"maintenance-{window.pk}",
        "name": "Scheduled maintenance",
        "status": "in_progress" if started else "scheduled",
        "impact": "maintenance",
        "created_at": window.created_at.isoformat(),
        "updated_at": window.created_at.isoformat(),
        "scheduled_for": window.starts_at.isoformat(),
        "scheduled_until": window.ends_at.isoformat(),
        "shortlink": _page_url(request, page.team),
        "page_id": page.team.slug if page.team else "vigil",
        "incident_updates": [],
        "components": [{"id": str(c.pk), "name": c.name} for c in window.public_components],
    }


def _json(request, part: str):
    page = queries.status_page()
    body = {"page": _page_json(request, page)}
    if part in ("summary", "status"):
        body["status"] = {"indicator": page.indicator, "description": page.description}
    if part in ("summary", "components"):
        body["components"] = _components_json(page)
    if part in ("summary", "unresolved"):
        body["incidents"] = [_incident_json(request, page, i) for i in page.incidents]
    if part == "summary":
        body["scheduled_maintenances"] = [_maintenance_json(request, page, w) for w in page.maintenances]
    return JsonResponse(body)


@_cacheable
def summary_json(request):
    return _json(request, "summary")


@_cacheable
def status_json(request):
    return _json(request, "status")


@_cacheable
def components_json(request):
    return _json(request, "components")


@_cacheable
def unresolved_json(request):
    return _json(request, "unresolved")


@_cacheable
def feed(request):
    """Atom feed of the newest public updates, every team's."""
    link = _page_url(request, None)
    atom = Atom1Feed(title="Vigil status", link=link, description="Public incident updates",
                     feed_url=request.build_absolute_uri(), language="en")
    for update in queries.feed_updates():
        incident = update.incident
        atom.add_item(
            title=f"{incident.title} — {update.get_state_display()}",
            link=f"{link}#{incident.number}",
            description=update.body,
            unique_id=f"{link}#update-{update.pk}",
            pubdate=update.created_at,
            updateddate=update.created_at,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response
