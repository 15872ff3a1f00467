"""Row ids given as text (query parameters, form fields)."""

# The largest id a bigint column (PostgreSQL, SQLite) holds; a larger number is no row's,
# and SQLite's driver refuses to even send it ("Python int too large"), a 500.
MAX_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """``text`` as a row id (ASCII digits, 1 to MAX_ID), or None if it cannot be one.

    ASCII only: ``isdigit()`` alone passes "²", which ``int()`` refuses.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class IdConverter:
    """``<id:pk>`` in URL patterns: a row id. Django's ``<int:…>`` takes any number of digits,
    and a number past ``MAX_ID`` reached the database as a 500 on SQLite; past 18 digits
    (always below ``MAX_ID``) the path matches no route: a 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
