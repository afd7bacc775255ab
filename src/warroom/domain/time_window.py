"""The window a time sent by a client must fall in; the rules refuse one outside it with `invalid`.

Every time a person types (a back-dated `occurred_at`, a promised `next_update_at`) ends up on
the timeline, in exports and in reminders, so it has to be a time the incident can be about:

* `occurred_at` (what happened when): from 30 days before the declaration, because trouble often
  starts before anyone declares, to 5 minutes from now, which allows for a client clock running a
  little fast. Nothing is back-dated to year 1, nothing happens tomorrow.
* `next_update_at` (when people hear next): from 5 minutes ago (the same allowance for clocks) to
  24 hours from now. The plan owes an internal update every 15 minutes for a SEV1 and every 30-60
  for a SEV2; a day covers a SEV3 and a quiet night of monitoring, and nothing later can be a
  promise anyone keeps.

The checks compare aware datetimes, which never converts them, so a time that has no UTC value at
all (`0001-01-01T00:00:00+14:00`) is refused like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.domain.errors import DomainError, ErrorCode
from warroom.domain.instants import in_zone

BACKDATE_LIMIT = timedelta(days=30)
"""How long before the declaration an `occurred_at` may lie."""
CLOCK_ALLOWANCE = timedelta(minutes=5)
"""How far a client's clock may be off: times this far in the future (or, for a next update,
in the past) are still taken."""
NEXT_UPDATE_LIMIT = timedelta(hours=24)
"""How far ahead a next update may be promised."""


def check_occurred_at(when: datetime, declared_at: datetime, now: datetime) -> None:
    """Refuse a back-dated time outside [declaration - 30 days, now + 5 minutes].

    Raises:
        DomainError: `invalid`, naming the field and the window.
    """
    _check(
        "occurred_at",
        when,
        (_earlier(declared_at, BACKDATE_LIMIT), "30 days before the declaration"),
        (now + CLOCK_ALLOWANCE, "5 minutes from now"),
    )


def before_declaration(when: datetime, declared_at: datetime) -> timedelta | None:
    """How long a back-dated time lies before the declaration, or None when it does not.

    The window takes such a time (trouble often starts before anyone declares), so the server
    records it; but a clock time typed hours before the declaration (`03:01` typed at 17:45) is
    as often a slip as a fact, so a console asks before it sends one. Both read the window here.
    """
    return declared_at - when if when < declared_at else None


def plausible_typed_at(
    when: datetime | None, declared_at: datetime, now: datetime
) -> datetime | None:
    """The console's typing time if it lies in the same window as `occurred_at`, else None.

    Unlike `occurred_at`, nobody typed this time: the console stamps it from its own clock. A
    laptop whose clock is off must not cost the Scribe the entry, so an implausible stamp is
    dropped (the entry is then timed by its arrival) instead of refusing the write.
    """
    if when is None:
        return None
    try:
        check_occurred_at(when, declared_at, now)
    except DomainError:
        return None
    return when


def check_next_update_at(when: datetime, now: datetime) -> None:
    """Refuse a promised next update outside [now - 5 minutes, now + 24 hours].

    Raises:
        DomainError: `invalid`, naming the field and the window.
    """
    _check(
        "next_update_at",
        when,
        (now - CLOCK_ALLOWANCE, "5 minutes ago"),
        (now + NEXT_UPDATE_LIMIT, "24 hours from now"),
    )


def _earlier(when: datetime, span: timedelta) -> datetime:
    """`when - span`, or the calendar's first instant when that is before it: a declaration
    time comes from the log, and a server (or a tampered log) may hold one in year 1, where the
    subtraction raised `OverflowError` in the console's Scribe line instead of a refusal."""
    try:
        return when - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _check(
    field: str, when: datetime, earliest: tuple[datetime, str], latest: tuple[datetime, str]
) -> None:
    if earliest[0] <= when <= latest[0]:
        return
    raise DomainError(
        ErrorCode.INVALID,
        f"{field} must be between {_utc(earliest[0])} ({earliest[1]}) and "
        f"{_utc(latest[0])} ({latest[1]}); got {when.isoformat()}",
    )


def _utc(when: datetime) -> str:
    utc = in_zone(when, UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%SZ}" if utc is not None else when.isoformat()
