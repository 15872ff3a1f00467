"""Project-wide middleware."""

from django.http import HttpResponseBadRequest, JsonResponse

from .text import MESSAGE

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


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
            if request.path.startswith(("/api/", "/v2/")):
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
