"""FHIR ``dateTime`` values: which text is one, and the instant a full one names.

FHIR R4 allows a year, a year and month, a date, or a date and time with seconds
(``60`` for a leap second), an optional fraction and a time zone (``Z`` or an
offset up to 14:00 either way); a time needs a zone. Text that matches the
pattern but names no real time (29 February in a common year, hour 24, year 0000,
an offset of 25 hours) is not a dateTime, and is refused rather than guessed at.
"""

from __future__ import annotations

import calendar
import datetime
import re

_PATTERN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                      r"(Z|[+-]\d{2}:\d{2}))?)?)?")
FORMAT = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a zone (Z or +hh:mm)"
MAX_OFFSET_MINUTES = 14 * 60


def date_time_problem(text: object) -> str | None:
    """Why ``text`` is not a FHIR dateTime, or None when it is one."""
    try:
        _parse(text)
    except ValueError as problem:
        return str(problem)
    return None


def instant(text: object) -> tuple[int, int, int] | None:
    """A sort key for the instant a full dateTime names (None for a partial date); ValueError if not one.

    The key is (whole seconds since year 1 in UTC, leap, nanoseconds), in integers so
    that no offset near year 1 or 9999 overflows and a fraction of nine digits is
    kept exactly; a leap second (``:60``) sorts after ``:59`` and before the next minute.
    """
    return _parse(text)


def _parse(text: object) -> tuple[int, int, int] | None:
    if not isinstance(text, str):
        raise ValueError(f"must be a dateTime (a string), not {type(text).__name__}")
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"{text[:40]!r} is not a dateTime ({FORMAT})")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if int(year) == 0:
        raise ValueError(f"{text!r} is not a dateTime: there is no year 0000")
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"{text!r} is not a dateTime: there is no month {month}")
    if day is not None and not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        raise ValueError(f"{text!r} is not a dateTime: {year}-{month} has no day {day}")
    if hour is None:
        return None
    if int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        raise ValueError(f"{text!r} is not a dateTime: {hour}:{minute}:{second} is not a time of day "
                         "(hours 00-23, minutes 00-59, seconds 00-60)")
    offset = 0
    if zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        offset = hours * 60 + minutes
        if minutes > 59 or offset > MAX_OFFSET_MINUTES:
            raise ValueError(f"{text!r} is not a dateTime: the zone offset {zone} is outside -14:00 to +14:00")
        offset = -offset if zone[0] == "-" else offset
    days = datetime.date(int(year), int(month), int(day)).toordinal()
    leap = int(second) == 60
    seconds = days * 86400 + int(hour) * 3600 + int(minute) * 60 + min(int(second), 59) - offset * 60
    return seconds, int(leap), int((fraction or "0").ljust(9, "0"))
