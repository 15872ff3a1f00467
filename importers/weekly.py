"""Weekly windows as bit masks: one bit per minute of a local week, Monday 00:00 = bit 0.

Sources describe restrictions in many shapes (daily windows, weekly spans of
several days, layers hiding the layers below them); Vigil stores weekly local
windows of at most a day each. Going through a mask makes every such shape
one subtraction or union, and ``to_restrictions`` writes the result in Vigil's
form. An empty restriction list in Vigil means "always": ``FULL``.
"""

WEEK = 7 * 24 * 60
DAY = 24 * 60
FULL = (1 << WEEK) - 1


def span(start_minute: int, minutes: int) -> int:
    """The mask of ``minutes`` minutes from ``start_minute`` of the week, wrapping past Sunday midnight."""
    if minutes >= WEEK:
        return FULL
    start = start_minute % WEEK
    end = start + minutes
    if end <= WEEK:
        return ((1 << minutes) - 1) << start
    return (((1 << (WEEK - start)) - 1) << start) | ((1 << (end - WEEK)) - 1)


def _runs(mask: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """Runs of set bits in [lo, hi), as (start, end) minutes."""
    runs, start = [], None
    for minute in range(lo, hi):
        if mask >> minute & 1:
            if start is None:
                start = minute
        elif start is not None:
            runs.append((start, minute))
            start = None
    if start is not None:
        runs.append((start, hi))
    return runs


def _hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60 % 24:02d}:{minute_of_day % 60:02d}"


def to_restrictions(mask: int) -> list[dict]:
    """Vigil's restriction list for ``mask``: ``[]`` for always; windows split at midnight, days with the
    same hours grouped (``{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}``).

    A window ending at midnight is written ``"end": "00:00"`` (Vigil reads an end not after the start as the
    next day), so a whole day is ``00:00``–``00:00``. Raises ValueError for an empty mask: Vigil has no
    "never" (the caller leaves such a rotation out).
    """
    if mask == FULL:
        return []
    if mask == 0:
        raise ValueError("never on call")
    by_hours: dict[tuple[str, str], list[int]] = {}
    for day in range(7):
        for start, end in _runs(mask, day * DAY, (day + 1) * DAY):
            by_hours.setdefault((_hhmm(start - day * DAY), _hhmm(end - day * DAY)), []).append(day)
    return [{"days": days, "start": start, "end": end} for (start, end), days in
            sorted(by_hours.items(), key=lambda item: (item[1][0], item[0]))]
