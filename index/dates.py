"""Article dates: only real calendar dates are stored, as YYYY-MM-DD; anything else is unknown.

A date that cannot be read never fails a file: it becomes "date unknown" with a warning.
Relative words ("yesterday", "3 days ago") are resolved against the file's modification time
when that is known, and refused otherwise.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

UNKNOWN_DATE = "date unknown"
_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%B %d %Y", "%b %d %Y")
_AGO = re.compile(r"^(\d{1,4}|a|an|one) (day|week)s? ago$")
_WORDS = {"today": 0, "yesterday": 1}
_LONGEST = 64  # no date is written longer; this also bounds the parsing of hostile values


def read_date(value: object, reference: date | None = None) -> tuple[str, str | None]:
    """(YYYY-MM-DD or "date unknown", a one-line warning when the value could not be used)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return UNKNOWN_DATE, None
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    shown = _shown(value)
    if not isinstance(value, str):
        return UNKNOWN_DATE, f"date {shown} is not a date; stored as {UNKNOWN_DATE}"
    text = " ".join(value.split())[:_LONGEST]
    parsed = _calendar_date(text)
    if parsed is not None:
        return parsed.isoformat(), None
    days_back = _days_back(text.lower())
    if days_back is None:
        return UNKNOWN_DATE, f"date {shown} is not a calendar date; stored as {UNKNOWN_DATE}"
    if reference is None:
        return UNKNOWN_DATE, (f"relative date {shown} has no time to count from; "
                              f"stored as {UNKNOWN_DATE}")
    try:
        resolved = (reference - timedelta(days=days_back)).isoformat()
    except OverflowError:
        return UNKNOWN_DATE, f"relative date {shown} falls before year 1; stored as {UNKNOWN_DATE}"
    return resolved, f"relative date {shown} read as {resolved}, counted from the file's time"


def normalise_date(value: object, reference: date | None = None) -> str:
    """The stored form of a date: YYYY-MM-DD, or "date unknown"."""
    return read_date(value, reference)[0]


def _calendar_date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:  # RFC 2822, as in RSS: "Mon, 03 Nov 2025 10:00:00 GMT"
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _days_back(text: str) -> int | None:
    if text in _WORDS:
        return _WORDS[text]
    match = _AGO.match(text)
    if not match:
        return None
    count = int(match.group(1)) if match.group(1).isdigit() else 1
    return count * (7 if match.group(2) == "week" else 1)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
