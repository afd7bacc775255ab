"""Finds the user behind a bearer token, and slows down whoever keeps guessing."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable

from warroom.server.tokens import hash_token
from warroom.store.base import EventStore

_MAX_DELAY = 2.0
_FORGET_AFTER = 300.0


class Authenticator:
    """Maps tokens to user names, re-reading the user table when a token is not known yet
    (`warroom user add` may have written it while the server runs)."""

    def __init__(self, store: EventStore, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._by_hash: dict[str, str] = {}
        self._failures: dict[str, tuple[int, float]] = {}
        self._monotonic = monotonic
        self._refresh_lock = asyncio.Lock()

    @property
    def user_names(self) -> set[str]:
        return set(self._by_hash.values())

    async def refresh(self) -> None:
        """Reload the user table."""
        async with self._refresh_lock:
            users = await self._store.users()
            self._by_hash = {u.token_hash: u.name for u in users}

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
        count, last = self._failures.get(peer, (0, now))
        if now - last > _FORGET_AFTER:
            count = 0
        self._failures[peer] = (count + 1, now)
        return min(_MAX_DELAY, 0.05 * (2**count)) if count else 0.0
