"""schemathesis hooks for actlog: the rule between parameters that an OpenAPI document
cannot state (its description of `endDate` states it in words), applied to the cases
schemathesis generates.

An export's period must not end before it starts (both given: 400 `invalid_period`). Cases
that give both are kept only when the end comes after the start, read as the server reads
them (a bare day as UTC, an end day including its whole day); cases whose dates do not parse
are left as they are, for the server to refuse.
"""

import re
from datetime import datetime, timedelta, timezone

import schemathesis

_DOTNET = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?: ([AaPp][Mm]))?)?"
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _bounds(text):
    """The first instant `text` covers and the instant after it, or None."""
    text = text.strip()
    try:
        if _DAY.fullmatch(text):
            start = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
            return start, start + timedelta(days=1)
        match = _DOTNET.fullmatch(text)
        if match:
            month, day, year, hour, minute, second, meridiem = match.groups()
            start = datetime(int(year), int(month), int(day), tzinfo=timezone.utc)
            if hour is None:
                return start, start + timedelta(days=1)
            hour = int(hour)
            if meridiem:
                hour = hour % 12 + (12 if meridiem.upper() == "PM" else 0)
            at = start.replace(hour=hour, minute=int(minute), second=int(second or 0))
            return at, at
        at = datetime.fromisoformat(text)
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at, at
    except (ValueError, OverflowError):
        return None


@schemathesis.hook
def filter_query(ctx, query):
    if ctx.operation.path != "/v1/exports/auditrecords" or not query:
        return True
    start, end = query.get("startDate"), query.get("endDate")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    start, end = _bounds(start), _bounds(end)
    if start is None or end is None:
        return True
    try:
        return start[0] < end[1]
    except (OverflowError, TypeError):
        return True
