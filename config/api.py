"""API conventions shared by every app: pagination, JSON types and the error shape.

Every error leaves as ``{"detail": "<what went wrong and how to fix it>",
"code": "<slug>"}``; a 400 adds its field errors beside them (as DRF does),
a 409 for an illegal transition adds ``status`` and ``allowed``.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


def _whole_number(text: str) -> bool:
    # ASCII digits only: int() also reads "²"-like digits, spaces and a sign, none of which the schema's integer allows.
    return text.isascii() and text.isdigit()


class Pagination(PageNumberPagination):
    """``?page=`` from 1 (past the last page, or not a number: 404, as DRF answers) and
    ``?page_size=`` from 1 (default 50; above 500 reads as 500; not a whole number: 400).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_query_description = "A page number, from 1. A page past the last one, or not a whole number, is a 404."
    page_size_query_description = (
        f"Results per page, from 1; default {page_size}, and a larger number than {max_page_size} "
        f"reads as {max_page_size}."
    )

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        # DRF falls back to the default for junk; the schema promises a whole number from 1, so junk is a 400.
        if not _whole_number(value) or int(value) < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 (at most {self.max_page_size} are sent)."]}
            )
        return min(int(value), self.max_page_size)

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param)
        if number is None:
            return 1
        if number in self.last_page_strings:
            return paginator.num_pages
        # Anything but ASCII digits goes to Django's paginator as not a number: DRF's 404 "Invalid page".
        return number if _whole_number(number) else "not a number"

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


# --- JSON types -------------------------------------------------------------------

_KINDS = {bool: "true or false", int: "a number", float: "a number", str: "a string", list: "a list",
          dict: "an object"}
_BOOLEAN, _INTEGER = "true or false (a JSON boolean)", "a whole number (a JSON integer)"


def _expected(field) -> tuple[tuple[type, ...], str] | None:
    """The JSON types ``field`` takes in a JSON body, and their name; None: any (or DRF's own check)."""
    if isinstance(field, serializers.BooleanField):
        return (bool,), _BOOLEAN
    if isinstance(field, serializers.IntegerField):
        return (int,), _INTEGER
    if isinstance(field, serializers.FloatField):
        return (int, float), "a number"
    if isinstance(field, serializers.ChoiceField) and not all(isinstance(c, str) for c in field.choices):
        return None
    if isinstance(field, serializers.CharField | serializers.ChoiceField | serializers.DateTimeField
                  | serializers.DateField | serializers.TimeField | serializers.DurationField):
        return (str,), "a string"
    if isinstance(field, serializers.ListField | serializers.ManyRelatedField):
        return (list,), "a list"
    if isinstance(field, serializers.DictField):
        return (dict,), "an object"
    if isinstance(field, serializers.SlugRelatedField):  # people by username, teams by slug...
        return (str,), "a string"
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        return (int,), _INTEGER
    return None  # JSONField takes anything; DecimalField a string or a number (the schema says both)


def _type_error(field, value) -> str | None:
    expected = None if getattr(field, "checks_own_type", False) else _expected(field)
    if value is None or expected is None:
        return None
    types, name = expected
    # bool is an int to Python, not to JSON.
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return f"Give {name}, not {_KINDS.get(type(value), type(value).__name__)}."
    child = getattr(field, "child", None) or getattr(field, "child_relation", None)
    if isinstance(value, list) and child is not None:
        return next(filter(None, (_type_error(child, item) for item in value)), None)
    return None


class JSONTypes:
    # Serializer mixin: in a JSON body each field takes only its own JSON type, as the schema says.
    #
    # DRF coerces: text takes 5, a number takes "5", a boolean takes "yes". A client reading the
    # schema never relies on that, and a client sending the wrong type has a bug worth hearing of.
    # Form bodies (the browser's, all strings) are left to DRF's own parsing.
    # (A comment, not a docstring: drf-spectacular would show a docstring as the description of
    # every serializer without one of its own.)

    def to_internal_value(self, data):
        if type(data) is not dict:  # a parsed JSON object is a dict; a form arrives as a QueryDict
            return super().to_internal_value(data)
        errors = {}
        for name, field in self.fields.items():
            if name in data and not field.read_only:
                message = _type_error(field, data[name])
                if message:
                    errors[name] = [message]
        if not errors:
            return super().to_internal_value(data)
        # The other fields are checked too, so one answer names every field to fix.
        try:
            super().to_internal_value({k: v for k, v in data.items() if k not in errors})
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                errors = {**exc.detail, **errors}
        raise serializers.ValidationError(errors)


class Conflict(exceptions.APIException):
    """409: the request is valid but the object's state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail, code)
        self.extra = extra


def _first_message(data) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            msg = _first_message(value)
            if msg:
                return msg if key == "non_field_errors" else f"{key}: {msg}"
    if isinstance(data, list | tuple):
        for item in data:
            msg = _first_message(item)
            if msg:
                return msg
    if isinstance(data, str):
        return data
    return ""


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if str(exc) else None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )

    elif isinstance(exc, IntegrityError):
        # Two requests raced to create the same thing; the loser is told so.
        exc = Conflict("That conflicts with a record saved at the same moment; fetch it and try again.",
                       code="conflict")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        first = _first_message(fields)
        body = {
            "detail": f"Invalid input: {first}" if first else "Invalid input.",
            "code": "invalid",
            **fields,
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", "error")
        body = {"detail": str(detail), "code": str(code)}
        if isinstance(exc, exceptions.Throttled):
            body["detail"] = f"Too many requests; try again in {exc.wait and int(exc.wait + 0.999) or 1} seconds."
        body.update(getattr(exc, "extra", {}) or {})
    response.data = body
    return response


def json_not_found(request, exception=None):
    """404 for URLs that match no route: JSON under /api/, the HTML page elsewhere."""
    if request.path.startswith(("/api/", "/v2/")):
        return JsonResponse(
            {"detail": f"No API endpoint at {request.path}; see /api/docs/ for the list.", "code": "not_found"},
            status=404,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
