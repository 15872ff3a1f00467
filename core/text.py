"""Text no database can store: a NUL character, or an unpaired UTF-16 surrogate (and numbers too large).

PostgreSQL's text and jsonb refuse a NUL, and no text encodes a lone
surrogate as UTF-8; JSON carries both as ``\\u`` escapes and a URL carries a
NUL as ``%00``. Where input arrives (a JSON body, a path, a query string, a
form), it is refused with the place it is in, before anything is stored:
otherwise the write fails deep in the database driver, as a 500.
"""

import json
import math
import re

# A NUL or a lone surrogate reaches a parsed JSON string only through a \u
# escape (a raw NUL is invalid JSON) or as raw surrogate bytes (json.loads
# decodes bytes with "surrogatepass"). Most bodies have neither, so only those
# that might are walked.
MAYBE_IN_JSON = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = ("holds a NUL character (\\u0000) or an unpaired surrogate (\\ud800–\\udfff), "
           "which no text can store; remove it.")


def unstorable_text(data, root: str = "the body") -> str | None:
    """Where in ``data`` a string (a value or a key) holds a NUL or a lone surrogate, or None.

    Iterative, so a deeply nested value cannot exhaust the stack.
    """
    stack = [(root, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return f"'{where}'" if where != root else root
        elif isinstance(value, dict):
            prefix = "" if where == root else where + "."
            for key, item in value.items():
                if isinstance(key, str) and UNSTORABLE.search(key):
                    return f"a key of '{where}'" if where != root else f"a key of {root}"
                stack.append((f"{prefix}{key}", item))
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


def refusal(where: str) -> str:
    """The sentence that tells the sender what to fix."""
    return f"{where[0].upper()}{where[1:]} {MESSAGE}"


# A number beyond a double's range (1e400, or 400 digits with a fraction) parses as
# infinity, which jsonb and JSON itself refuse. Only bodies that might hold one are walked.
MAYBE_HUGE_NUMBER = re.compile(rb"[eE]\+?0*[1-9][0-9]{2,}|[0-9]{300,}")


def infinite_number(data, root: str = "the body") -> str | None:
    """Where in ``data`` a number parsed as infinity (too large for a double), or None."""
    stack = [(root, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, float) and math.isinf(value):
            return f"'{where}'" if where != root else root
        if isinstance(value, dict):
            prefix = "" if where == root else where + "."
            stack.extend((f"{prefix}{key}", item) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


def check_json_bytes(body: bytes, data) -> str | None:
    """The refusal for a parsed JSON body, or None if all its text and numbers can be stored."""
    if MAYBE_IN_JSON.search(body):
        where = unstorable_text(data)
        if where is not None:
            return refusal(where)
    if MAYBE_HUGE_NUMBER.search(body):
        where = infinite_number(data)
        if where is not None:
            return (f"{where[0].upper()}{where[1:]} is a number too large to store (beyond ±1.8e308); "
                    "send a smaller number, or the value as a string.")
    return None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number; send a number or null")


# Built once: json.loads with an argument builds a decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads(body: bytes):
    """``json.loads``, refusing NaN and Infinity (not JSON; jsonb refuses them) with a ValueError."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


# A name or title is one line: a newline or another control character in it breaks
# the places it is written into (an iCalendar feed's lines, e-mail subjects, headers).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# The same rules as OpenAPI patterns, for the schema (ECMA-262 syntax, read alike by Python's re).
# Blank is what str.strip() removes: Unicode white space, and \x1c-\x1f, which Python counts too.
# DRF strips a text field before checking it, so blank ends (a newline included) pass.
_BLANK, _CONTROL = r"\s\u001c-\u001f", r"\u0000-\u001f\u007f-\u009f"
NON_BLANK_PATTERN = rf"[^{_BLANK}]"
ONE_LINE_PATTERN = rf"^[{_BLANK}]*[^{_CONTROL}]*[{_BLANK}]*$"
ONE_LINE_NON_BLANK_PATTERN = rf"^[{_BLANK}]*[^{_CONTROL}]*[^{_BLANK}{_CONTROL}][^{_CONTROL}]*[{_BLANK}]*$"


def validate_one_line(value: str) -> None:
    """Model-field validator for names and titles: no newline, tab or other control character."""
    from django.core.exceptions import ValidationError

    if isinstance(value, str) and CONTROL.search(value):
        raise ValidationError("Use one line of text: no newlines, tabs or other control characters.",
                              code="control_character")
