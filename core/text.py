"""Text no database can store: a NUL character, or an unpaired UTF-16 surrogate.

PostgreSQL's text and jsonb refuse a NUL, and no text encodes a lone
surrogate as UTF-8; JSON carries both as ``\\u`` escapes and a URL carries a
NUL as ``%00``. Where input arrives (a JSON body, a path, a query string, a
form), it is refused with the place it is in, before anything is stored:
otherwise the write fails deep in the database driver, as a 500.
"""

import json
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


def check_json_bytes(body: bytes, data) -> str | None:
    """The refusal for a parsed JSON body, or None if all its text can be stored."""
    if not MAYBE_IN_JSON.search(body):
        return None
    where = unstorable_text(data)
    return refusal(where) if where is not None else None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number; send a number or null")


# Built once: json.loads with an argument builds a decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads(body: bytes):
    """``json.loads``, refusing NaN and Infinity (not JSON; jsonb refuses them) with a ValueError."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
