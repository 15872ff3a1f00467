"""The API's JSON parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

Its own module: ``config.api`` imports DRF's views, which read the parser
setting when they are imported.
"""

from rest_framework import exceptions, parsers

from core.text import check_json_bytes, loads


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what it would pass on to a 500.

    A body nested past Python's recursion limit (DRF catches only
    ValueError), NaN and Infinity (not JSON; jsonb refuses them), and text no
    database can store (``core.text``) are each a 400 that says what to fix.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        try:
            data = loads(body)
        except ValueError as exc:  # UnicodeDecodeError included
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply; flatten it.") from None
        problem = check_json_bytes(body, data)
        if problem is not None:
            raise exceptions.ParseError(problem)
        return data
