"""Stored times as every renderer reads them (checked before they are converted or subtracted),
and kept in UTC.

A time a client sent, such as `0001-01-01T00:00:00+14:00`, is a valid `datetime` but has no UTC
value (it falls in year 0), and `0001-01-01T00:00:00Z` has no value in any zone west of UTC:
converting either raises `OverflowError`. Renderers ask here first, and show a time out of range
as the text that was stored, marked, instead of crashing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError, TzInfo

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
"""The first instant shown as a time: a day after the calendar's start, so it exists in every
zone (UTC offsets are less than a day)."""
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC)
"""The last instant shown as a time, a day before the calendar's end for the same reason."""
OUT_OF_RANGE = "(out of range)"
"""The mark after a stored time that cannot be shown as a time."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_OFFSET = timedelta(0)


def _aware(when: datetime) -> datetime:
    # A naive time is taken to be UTC, which is how the server records time.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def in_range(when: datetime) -> bool:
    """True if `when` can be converted to any zone without overflowing."""
    # Comparing aware datetimes works on their offsets and never builds a datetime in year 0.
    return EARLIEST <= _aware(when) <= LATEST


def in_zone(when: datetime, zone: tzinfo | None) -> datetime | None:
    """`when` in `zone` (None: this machine's zone), or None when it is out of range."""
    if not in_range(when):
        return None
    try:
        return _aware(when).astimezone(zone)
    except (OverflowError, ValueError, OSError):
        # The machine's zone is read from the C library, which may reject very old times.
        return None


def as_stored(when: datetime) -> str:
    """A time out of range as the honest text it was stored as: `0001-01-01T00:00:00+14:00 (out
    of range)`."""
    return f"{when.isoformat()} {OUT_OF_RANGE}"


def order_key(when: datetime) -> timedelta:
    """A sort key that orders any stored times by the instant they name, in range or not."""
    return _aware(when) - _EPOCH


def span(start: datetime, end: datetime) -> timedelta | None:
    """`end - start`, or None (unknown) when either end is out of range."""
    if not (in_range(start) and in_range(end)):
        return None
    return _aware(end) - _aware(start)


def to_utc(when: datetime) -> datetime:
    """`when` as the same instant in UTC, which is how every stored time is kept.

    A naive time is taken to be UTC. A time with no UTC value (out of range) is returned as it
    came, for the rules to refuse with the window they allow (`domain.time_window`), and so that
    an old log holding one still loads.
    """
    zone = when.tzinfo
    if zone is UTC:
        return when  # every time the server made: nothing to convert
    if type(zone) is TzInfo and zone.utcoffset(None) == _NO_OFFSET:
        # Every stored time as pydantic reads it (`Z` gives its own zone type, offset 0): already
        # UTC. Checked this way because converting or even `replace(tzinfo=UTC)` cost 2-3 us a
        # time, which was a fifth of decoding a 10,000-event catch-up (docs/performance.md).
        return when
    if not in_range(when):
        return when
    return _aware(when).astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(to_utc)]
"""A stored time (events, state): kept in UTC, so the server writes every time with a `Z`."""
_SECONDS = re.compile(r"\s*[+-]?\d+(\.\d*)?\s*")
"""What pydantic would read as Unix seconds, even in a string (`"2026"` is 00:33:46 in 1970)."""
_LAX_TIME = TypeAdapter(AwareDatetime)


def _from_iso_8601(value: object) -> object:
    """A client's time from its ISO 8601 string; anything else is refused.

    Lax pydantic takes a number for Unix seconds: `"typed_at": 1764400000` would be a time in
    2025 that nobody typed. The string is parsed here, laxly, because a strict `datetime` (how
    the server reads frames) takes no string once a validator has handed it on. A `datetime` is
    let through: a console builds its own commands from one.
    """
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _SECONDS.fullmatch(value):
        raise PydanticCustomError(
            "time_format",
            "Input should be an ISO 8601 time string with a UTC offset, e.g. 2026-11-29T17:39:04Z",
        )
    try:
        return _LAX_TIME.validate_python(value, strict=False)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        raise PydanticCustomError(problem["type"], "{reason}", {"reason": problem["msg"]}) from None


ClientTime = Annotated[AwareDatetime, BeforeValidator(_from_iso_8601), AfterValidator(to_utc)]
"""A time a client sends: an ISO 8601 string (never a number) that carries its zone (`Z` or
`+02:00`), kept in UTC."""
