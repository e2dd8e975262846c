"""RFC 3339 times as the go command reads the ``Time`` of ``.info`` and ``@latest`` answers.

``modfetch.RevInfo.Time`` is a ``time.Time``, filled by ``Time.UnmarshalJSON``:
``null`` leaves it zero, anything but a JSON string is an error, and the string
goes to ``parseStrictRFC3339`` (Go's src/time/format_rfc3339.go). That is the
fast ``parseRFC3339`` and, where it fails, ``time.Parse(time.RFC3339, s)``,
whose extra strictness checks are disabled (go.dev/issue/54580). Accepted,
then: ``YYYY-MM-DDTHH:MM:SS``, an optional fraction after ``.`` or ``,``, and
``Z`` or ``±hh:mm``; the year of exactly four digits, ``T`` and ``Z`` upper case,
every field in range (the hour may have one digit, the zone hour may be 24, the
zone minute 60: ``time.Parse`` allows those). Python's ``fromisoformat`` also
accepts a space for ``T``, no zone, week dates and more, which Go refuses.
"""

from __future__ import annotations

import calendar
import re

_RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})T(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:[.,][0-9]+)?(?:Z|[+-](?P<zone_hour>[0-9]{2}):(?P<zone_minute>[0-9]{2}))"
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def problem(text: str) -> str | None:
    """Why Go's JSON decoding of a ``time.Time`` refuses ``text``; None when it accepts it."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return f"{text!r} is not RFC 3339 as Go parses it (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±hh:mm)"
    n = {field: int(value) for field, value in match.groupdict().items() if value is not None}
    limits = {"month": 12, "hour": 23, "minute": 59, "second": 59, "zone_hour": 24, "zone_minute": 60}
    if 1 <= n["month"] <= 12:
        limits["day"] = _DAYS[n["month"] - 1] + (n["month"] == 2 and calendar.isleap(n["year"]))
    for field, high in limits.items():
        low = 1 if field in ("month", "day") else 0
        if field in n and not low <= n[field] <= high:
            return f"{text!r}: {field.replace('_', ' ')} {n[field]} is out of range [{low}, {high}]"
    return None
