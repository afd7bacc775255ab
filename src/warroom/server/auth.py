"""Finds the user behind a bearer token, and slows down whoever keeps guessing."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable

from warroom.server.tokens import hash_token
from warroom.store.base import EventStore

_MAX_DELAY = 2.0
"""The longest a failed handshake waits before its 401."""
_MAX_DOUBLINGS = 6
"""0.05 s doubled six times passes `_MAX_DELAY`; more doublings would only overflow a float."""
_FORGET_AFTER = 300.0
"""Seconds without a failure after which an address starts again with no penalty."""
MAX_TRACKED_PEERS = 10_000
"""Addresses whose failures are remembered; past this the stalest are forgotten first, so a
flood from many addresses cannot grow the table without bound."""


class Authenticator:
    """Maps tokens to user names, re-reading the user table when a token is not known yet
    (`warroom user add` may have written it while the server runs)."""

    def __init__(self, store: EventStore, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._by_hash: dict[str, str] = {}
        self._failures: dict[str, tuple[int, float]] = {}
        self._monotonic = monotonic
        self._refreshing: asyncio.Future[None] | None = None
        self._users_version: int | None = None

    @property
    def user_names(self) -> set[str]:
        return set(self._by_hash.values())

    async def refresh(self) -> None:
        """Reload the user table. Callers that arrive while a reload is running share it, so a
        thousand handshakes at once cost one read, not a thousand queued ones."""
        if self._refreshing is not None:
            await asyncio.shield(self._refreshing)
            return
        self._refreshing = asyncio.get_running_loop().create_future()
        try:
            users = await self._store.users()
            self._by_hash = {u.token_hash: u.name for u in users}
        except BaseException as exc:
            self._refreshing.set_exception(exc)
            # Mark it retrieved: the waiters (if any) re-raise it, the future itself must not
            # log "exception was never retrieved".
            self._refreshing.exception()
            raise
        else:
            self._refreshing.set_result(None)
        finally:
            self._refreshing = None

    async def users_changed(self) -> bool:
        """Re-read the user table if the store says it changed since the last look (cheap when
        it did not); True if it did, so the server can end a revoked user's connections."""
        version = await self._store.users_version()
        if version == self._users_version:
            return False
        await self.refresh()
        self._users_version = version
        return True

    async def identify(self, token: str | None, peer: str) -> str | None:
        """The user owning `token`, or None. Repeated failures from one peer wait longer each time
        (up to two seconds), which turns guessing into a very slow business."""
        # Re-read the (small) user table at every handshake, so `warroom user add` and
        # `warroom user revoke` take effect on a running server at once.
        await self.refresh()
        name = self._lookup(token)
        if name is None:
            await asyncio.sleep(self._penalty(peer))
            return None
        self._failures.pop(peer, None)
        return name

    def _lookup(self, token: str | None) -> str | None:
        if not token:
            return None
        candidate = hash_token(token)
        found = None
        # Compare against every stored hash in constant time and without an early exit, so the
        # response time says nothing about which (or whether a) stored hash was close.
        for stored, name in self._by_hash.items():
            if hmac.compare_digest(candidate, stored):
                found = name
        return found

    def _penalty(self, peer: str) -> float:
        now = self._monotonic()
        count, last = self._failures.pop(peer, (0, now))
        if now - last > _FORGET_AFTER:
            count = 0
        # Re-inserted at the end: the dict stays ordered from stalest to latest failure.
        self._failures[peer] = (count + 1, now)
        if len(self._failures) > MAX_TRACKED_PEERS:
            self._forget_stalest(now)
        return min(_MAX_DELAY, 0.05 * 2 ** min(count, _MAX_DOUBLINGS)) if count else 0.0

    def _forget_stalest(self, now: float) -> None:
        for peer, (_, last) in list(self._failures.items()):
            if len(self._failures) <= MAX_TRACKED_PEERS and now - last <= _FORGET_AFTER:
                break
            del self._failures[peer]

    @property
    def tracked_peers(self) -> int:
        """How many addresses the throttle remembers (bounded by `MAX_TRACKED_PEERS`)."""
        return len(self._failures)
