"""Project-wide middleware."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from core.text import MESSAGE

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_API_PATHS = ("/api/", "/v2/")


class RequireContentLength:
    """411 for a body sent chunked (``Transfer-Encoding: chunked``, no ``Content-Length``).

    Django reads exactly ``Content-Length`` bytes of a body, so a chunked one
    arrives empty and would be answered "not valid JSON" (or, for a form,
    treated as if nothing was sent). Saying what happened is better.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            message = ("Send the body with a Content-Length header: Vigil does not read bodies "
                       "sent with Transfer-Encoding: chunked.")
            if request.path.startswith(_API_PATHS):
                return JsonResponse({"detail": message, "code": "length_required"}, status=411)
            return HttpResponse(message, status=411, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RefuseUnstorableText:
    """400 for a NUL character in the path, the query string or a submitted form.

    Django hands ``%00`` through to views as a NUL, and PostgreSQL refuses it
    in any text it is compared with or stored in: without this, a lookup by a
    slug or number with ``%00`` in it is a 500. (Surrogates cannot arrive this
    way: Django decodes URLs and forms with replacement characters.) JSON
    bodies are checked where they are parsed (``config.parsers.JSONParser``, the
    ingest endpoints). Cheap: the path and the raw query string are scanned;
    only a submitted form is parsed, as the view would parse it anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = self._where(request)
        if where is not None:
            message = f"The {where} {MESSAGE}"
            if request.path.startswith(_API_PATHS):
                return JsonResponse({"detail": message, "code": "invalid"}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _where(request) -> str | None:
        if "\x00" in request.path:
            return "path"
        if "%00" in request.META.get("QUERY_STRING", ""):
            return "query string"
        if request.method == "POST" and request.content_type in _FORMS:
            request.body  # noqa: B018 - read and kept first, so the view can still read the body after POST is parsed
            if any("\x00" in value for _, values in request.POST.lists() for value in values):
                return "form"
        return None


# The API and the ingest endpoints answer JSON in UTC; the middleware below are for browser pages.
# The public status page (comms) is the same for every reader, in UTC: it is cached by browsers and
# shared caches for everyone, so it must not read the session (that alone adds ``Vary: Cookie``).
_PUBLIC_PATHS = ("/status/",)


def _reader_zone(user) -> ZoneInfo | None:
    if not user.is_authenticated:
        return None
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return None


class ReaderTimeZone:
    """Pages show date-times, and forms read them, in the logged-in reader's zone (``User.timezone``).

    The one place that rule is applied; ``{% when %}`` (``core.templatetags.when``)
    labels what it activates. Not under /api/ or /v2/: DRF renders date-times
    in the current zone, and the API answers in UTC whoever asks. Anonymous
    pages (login, calendar feeds) and an unknown zone get UTC, and so does the
    public status page under /status/, whoever reads it (without a look at
    ``request.user``, which would load the session).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None if request.path.startswith(_API_PATHS + _PUBLIC_PATHS) else _reader_zone(request.user)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


class ExplainMethodNotAllowed:
    """A page for a browser that GETs an address taking only a form's POST (a bookmarked action URL).

    ``require_POST`` answers 405 with an empty body, which a browser shows as a
    blank page. This keeps the 405 and its ``Allow`` header and adds
    ``405.html``: use the button. API answers (with a JSON body) pass untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code == 405 and not getattr(response, "streaming", False) and not response.content
                and not request.path.startswith(_API_PATHS)):
            allow = response.get("Allow", "")
            page = render(request, "405.html", {"allowed": allow}, status=405)
            page["Allow"] = allow
            return page
        return response
