"""Slows down whoever keeps presenting wrong tokens, without slowing the others who share their
address.

Many people may reach the server from one address: every browser session of `warroom web` comes
from the web host, an office comes through one NAT or proxy. So failures are counted twice:

* per console: the address and the console id its handshake names
  (`warroom.protocol.handshake.CONSOLE_HEADER`, a random id each console process makes once).
  One person's typos slow only that person's console.
* per address, with an allowance: the failures of every console there together wait only once
  they pass `ADDRESS_ALLOWANCE`, so a guesser who makes up a new console id for every guess is
  slowed anyway, and a few typos around the office slow nobody else.

A success resets nothing (a guesser holding one valid token would otherwise wipe the count
between guesses, and one person's success would wipe everyone else's): failures leak away with
time instead, one every `FORGIVE_SECONDS`. The wait comes before the token is checked and applies
to a right token too, so how long an answer takes says nothing about the token; it never exceeds
`MAX_WAIT`, so a person sharing an address with a guesser signs in late, never locked out. Both
tables are bounded: past `MAX_TRACKED` entries the stalest are forgotten first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_CONSOLE_ID = 64
"""Longer console ids are cut: the id is a key in a table, not data to keep."""
MAX_WAIT = 2.0
"""The longest an attempt waits before its token is checked."""
FIRST_WAIT = 0.1
"""The wait after one failure; it doubles with every further one, up to `MAX_WAIT`."""
FORGIVE_SECONDS = 10.0
"""One failure is forgotten per this many seconds without new ones (a leaky bucket)."""
ADDRESS_ALLOWANCE = 30
"""Failures one address may have outstanding, from all its consoles together, before attempts
from it wait: room for a busy office's typos, far below a guesser's pace."""
MAX_TRACKED = 10_000
"""Entries each table keeps at most; a flood from many addresses or made-up console ids
cannot grow them without bound."""
_DOUBLINGS = 5
"""`FIRST_WAIT` doubled five times passes `MAX_WAIT`: the count that saturates the wait."""
_SURPLUS = 2 * _DOUBLINGS
"""Failures counted beyond those that saturate the wait: however long it guessed, an address
or console that stops failing waits no longer two and a half minutes later."""


class _LeakyCounts:
    """Failure counts that leak away with time, ordered from stalest to latest."""

    def __init__(self, ceiling: float, max_entries: int) -> None:
        self._ceiling = ceiling
        self._max_entries = max_entries
        self._counts: dict[object, tuple[float, float]] = {}

    def count(self, key: object, now: float) -> float:
        """The failures still counted against `key` now."""
        count, at = self._counts.get(key, (0.0, now))
        return max(0.0, count - (now - at) / FORGIVE_SECONDS)

    def add(self, key: object, now: float) -> None:
        count = min(self._ceiling, self.count(key, now) + 1)
        # Re-inserted at the end: the dict stays ordered from stalest to latest failure.
        self._counts.pop(key, None)
        self._counts[key] = (count, now)
        while len(self._counts) > self._max_entries:
            del self._counts[next(iter(self._counts))]

    def __len__(self) -> int:
        return len(self._counts)


class SignInThrottle:
    """How long each sign-in attempt waits, from the failures of its console and its address."""

    def __init__(
        self, monotonic: Callable[[], float] = time.monotonic, max_tracked: int = MAX_TRACKED
    ) -> None:
        self._monotonic = monotonic
        self._consoles = _LeakyCounts(_DOUBLINGS + _SURPLUS, max_tracked)
        self._addresses = _LeakyCounts(ADDRESS_ALLOWANCE + _DOUBLINGS + _SURPLUS, max_tracked)

    def wait(self, address: str, console: str) -> float:
        """Seconds a sign-in attempt from this console of `address` waits before its token is
        checked, whatever the token."""
        now = self._monotonic()
        own = self._consoles.count((address, console), now)
        shared = self._addresses.count(address, now) - ADDRESS_ALLOWANCE
        return _wait_after(max(own, shared))

    def failed(self, address: str, console: str) -> None:
        """Count a refused token against its console and its address."""
        now = self._monotonic()
        self._consoles.add((address, console), now)
        self._addresses.add(address, now)

    def failures(self, address: str, console: str) -> tuple[float, float]:
        """The failures counted now against this console of `address`, and against `address`."""
        now = self._monotonic()
        return self._consoles.count((address, console), now), self._addresses.count(address, now)

    @property
    def tracked(self) -> int:
        """Entries the throttle holds (bounded by twice `MAX_TRACKED`)."""
        return len(self._consoles) + len(self._addresses)


def console_id(headers: list[str]) -> str:
    """The console id a handshake's console headers name, cut to `MAX_CONSOLE_ID`; "" when it
    names none (all such consoles of an address share one count). Repeated headers name one
    console, their values joined as HTTP joins a repeated field; whatever the id, the address's
    count applies too, so no choice of ids escapes the throttle."""
    return ",".join(headers)[:MAX_CONSOLE_ID]


def _wait_after(failures: float) -> float:
    count = round(failures)
    if count < 1:
        return 0.0
    return min(MAX_WAIT, FIRST_WAIT * float(2 ** min(count - 1, _DOUBLINGS)))
