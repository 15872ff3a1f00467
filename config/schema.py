"""The OpenAPI schema tells the truth: what each operation accepts and every answer it can give.

Clients generate code from ``/api/schema/`` (and ``tests/config/test_api_schema_fuzz.py``
holds the running API to it), so two things are added to what drf-spectacular
derives from the serializers:

- ``AutoSchema`` writes down what request fields check beyond their type: a
  text field that may not be blank holds a character other than white space
  (DRF trims it first), a name or title is one line (``core.text``), an instant
  is in the years Vigil stores (``core.instants``), a time zone has an IANA
  name's shape, a URL one of Django's schemes, a decimal takes text or a number,
  a list that may not be empty says so. A serializer declares the rest:
  ``refuses_unknown_fields`` (``additionalProperties: false``),
  ``request_schema_extra`` (rules between fields, on create) and
  ``fixed_after_create`` (fields a PATCH ignores).
- ``add_error_responses`` (a postprocessing hook) lists the errors of
  ``config.api`` on every operation where they can occur: 400 with field
  errors, 401, 403, 404 (a page past the last one too), 409, and 429 with
  ``Retry-After``; and says that an empty query parameter is no filter.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import is_patched_serializer
from rest_framework import serializers

from core.instants import PATTERN as INSTANT_PATTERN
from core.instants import RANGE
from core.text import NON_BLANK_PATTERN as NON_BLANK
from core.text import ONE_LINE_NON_BLANK_PATTERN as ONE_LINE_NON_BLANK
from core.text import ONE_LINE_PATTERN as ONE_LINE
from core.text import validate_one_line
from oncall.models.people import validate_timezone

# An IANA zone name's shape. Not an enum of the ~600 names: that list changes with each tzdata
# release, would make generated clients churn, and would outweigh the rest of the schema.
TIME_ZONE = {"type": "string", "maxLength": 64, "pattern": r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$",
             "example": "Europe/Berlin"}

URL_SCHEMES = r"^(?:[hH][tT][tT][pP][sS]?|[fF][tT][pP][sS]?)://"
PARKED = "x-vigil-request-rules"
PAGINATION = {"page", "page_size"}
SAFE = {"get", "head", "options"}
METHODS = SAFE | {"post", "put", "patch", "delete"}


def _validated_by(field, validator) -> bool:
    return any(v is validator for v in field.validators)


class AutoSchema(SpectacularAutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "request":
            return schema
        if getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        if not is_patched_serializer(serializer, direction) and hasattr(serializer, "request_schema_extra"):
            # Rules between fields (e.g. which kinds take which fields), as the serializer declares them;
            # parked until add_error_responses, so drf-spectacular's enum hook leaves their enums inline.
            schema[PARKED] = serializer.request_schema_extra
        properties = schema.get("properties", {})
        for name, field in serializer.fields.items():
            if name in properties and not field.read_only:
                properties[name] = self._request_constraints(field, properties[name])
        if is_patched_serializer(serializer, direction):
            # Fields a change leaves alone, whatever they hold (a client may send back what it read).
            for name in getattr(serializer, "fixed_after_create", ()):
                if name in properties:
                    properties[name] = {"description": "Fixed when created: ignored here, whatever it holds."}
            # Fields a change carries all the same (a postmortem's version: optimistic locking).
            needed = [name for name in getattr(serializer, "required_in_patch", ()) if name in properties]
            if needed:
                schema["required"] = needed
        return schema

    def _request_constraints(self, field, schema: dict) -> dict:
        if isinstance(field, serializers.ListField | serializers.ManyRelatedField) and schema.get("type") == "array":
            if not field.allow_empty:
                schema.setdefault("minItems", 1)
            if getattr(field, "unique_items", False):
                schema["uniqueItems"] = True
            return schema
        if isinstance(field, serializers.DateTimeField):
            # Every instant a client gives is checked against core.instants' range.
            schema["pattern"] = INSTANT_PATTERN
            schema["description"] = " ".join(filter(None, [schema.get("description"), f"An instant {RANGE}."]))
            return schema
        if isinstance(field, serializers.DecimalField) and field.min_value is not None and field.min_value >= 0:
            return self._decimal(field, schema)
        if not isinstance(field, serializers.CharField) or isinstance(field, serializers.ChoiceField):
            return schema
        if _validated_by(field, validate_timezone):
            description = " ".join(filter(None, [schema.get("description"), "A name of the IANA time zone database."]))
            return {**{k: v for k, v in schema.items() if k in ("nullable", "default")}, **TIME_ZONE,
                    "description": description}
        if isinstance(field, serializers.URLField):
            # Django's URLValidator takes these schemes only (and is stricter about hosts than the uri format).
            for branch in [schema, *schema.get("oneOf", [])]:
                if branch.get("format") == "uri":
                    branch["pattern"] = URL_SCHEMES
            return schema
        if "pattern" in schema or "format" in schema or "enum" in schema or "oneOf" in schema:
            return schema
        one_line = _validated_by(field, validate_one_line)
        blank_allowed = field.allow_blank or not field.trim_whitespace
        if one_line:
            schema["pattern"] = ONE_LINE if blank_allowed else ONE_LINE_NON_BLANK
        elif not blank_allowed:
            schema["pattern"] = NON_BLANK
        return schema

    @staticmethod
    def _decimal(field, schema: dict) -> dict:
        """A non-negative decimal: as text (drf-spectacular's pattern allows a sign and a lone point, which
        min_value and Decimal refuse) or as a JSON number, which DRF takes too."""
        whole, places = field.max_digits - field.decimal_places, field.decimal_places
        text = {"type": "string", "format": "decimal",
                "pattern": rf"^(?:[0-9]{{1,{whole}}}(?:\.[0-9]{{0,{places}}})?|\.[0-9]{{1,{places}}})$"}
        number = {"type": "number", "minimum": float(field.min_value), "exclusiveMaximum": True,
                  "maximum": float(10**whole), "description": f"With at most {places} decimal places."}
        if schema.get("nullable"):
            text["nullable"] = number["nullable"] = True
        return {**{k: v for k, v in schema.items() if k in ("description", "default")}, "anyOf": [text, number]}


# --- Errors ------------------------------------------------------------------------

ERROR = {
    "type": "object",
    "description": "Every error: what went wrong and how to fix it, and a stable code.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong and how to fix it."},
        "code": {"type": "string", "description": "A stable slug, e.g. not_found, permission_denied."},
    },
    "required": ["detail", "code"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Invalid input: `detail` names the first problem, and each field in error is a key "
                   "holding its messages (a list of strings, or an object for a nested field).",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": ["invalid", "parse_error"]},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}
ILLEGAL_TRANSITION = {
    "type": "object",
    "description": "Illegal now: the object's status and the transitions allowed from it.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "illegal_transition, or another reason such as "
                                                  "postmortem_required; conflict for a concurrent write."},
        "status": {"type": "string", "description": "The current status."},
        "allowed": {"type": "array", "items": {"type": "string"}, "description": "Transitions legal now."},
    },
    "required": ["detail", "code"],
}

_WORDS = {
    "400": "Invalid input (or a body that is not JSON): `detail` says what to fix; each field in error "
           "is a key with its messages.",
    "401": "No credentials, or unknown ones: send `Authorization: Token <key>`.",
    "403": "You may see this but not change it (or, signed in with a session, the CSRF check failed).",
    "404": "Unknown, or belonging to a team you cannot see.",
    "404_page": "Unknown, or belonging to a team you cannot see; or a `page` past the last one.",
    "409": "Conflicts with the current state, e.g. a record saved at the same moment; fetch it and try again.",
    "429": "Too many requests: wait the seconds in `Retry-After`.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(code: str, schema: str, words: str | None = None, headers: dict | None = None) -> dict:
    answer = {"description": words or _WORDS[code],
              "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        answer["headers"] = headers
    return answer


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                               "description": "Seconds to wait before trying again."}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Token`."}}


def _errors_for(method: str, operation: dict) -> dict:
    parameters = operation.get("parameters", [])
    in_path = any(p.get("in") == "path" for p in parameters)
    in_query = any(p.get("in") == "query" for p in parameters)
    paged = any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)
    unsafe = method not in SAFE
    errors = {}
    if unsafe or in_query or "requestBody" in operation:
        errors["400"] = _answer("400", "ValidationError")
    security = operation.get("security", [])
    if security and {} not in security:  # credentials required
        errors["401"] = _answer("401", "Error", headers=WWW_AUTHENTICATE)
    if unsafe:
        errors["403"] = _answer("403", "Error")
    if in_path or paged:
        errors["404"] = _answer("404_page" if paged else "404", "Error")
    if unsafe:
        errors["409"] = _answer("409", "Error")
    errors["429"] = _answer("429", "Error", headers=RETRY_AFTER)
    return errors


def _query_truths(parameter: dict) -> None:
    """What holds for every query parameter of the API, beyond its own declaration."""
    if parameter.get("in") != "query":
        return
    schema = parameter.get("schema", {})
    if schema.get("format") == "date-time":
        # Every instant a client gives is checked against core.instants' range (filters too).
        schema.setdefault("pattern", INSTANT_PATTERN)
    if parameter["name"] not in PAGINATION:
        # An empty filter is no filter (django-filter's rule, and the views'); only the page
        # parameters, DRF's, refuse an empty value.
        parameter["allowEmptyValue"] = True


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: the errors of ``config.api`` on every DRF operation.

    Runs before the ingest paths are added: those carry their foreign formats' own errors.
    An answer an operation already declares keeps its words and gains the shape.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    schemas["IllegalTransition"] = ILLEGAL_TRANSITION
    for schema in schemas.values():
        schema.update(schema.pop(PARKED, {}))
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                _query_truths(parameter)
            responses = operation.setdefault("responses", {})
            for code, answer in _errors_for(method, operation).items():
                if code not in responses:
                    responses[code] = answer
                elif "content" not in responses[code]:
                    responses[code] = {**answer, "description": responses[code]["description"]}
    return result
