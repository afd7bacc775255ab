"""Finds the user behind a bearer token, and slows down whoever keeps guessing
(`warroom.server.sign_in_throttle`)."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable

from warroom.server.limits import USERS_READ_SECONDS
from warroom.server.shared_read import SharedRead
from warroom.server.sign_in_throttle import SignInThrottle
from warroom.server.tokens import hash_token
from warroom.store.base import EventStore, StoreError


class UsersUnavailable(Exception):
    """The user table could not be read in time (a locked SQLite file, a write stuck before the
    read on the store's thread, PostgreSQL not answering): the handshake is answered 503."""


class Authenticator:
    """Maps tokens to user names, re-reading the user table when a token is not known yet
    (`warroom user add` may have written it while the server runs)."""

    def __init__(
        self,
        store: EventStore,
        monotonic: Callable[[], float] = time.monotonic,
        read_seconds: float = USERS_READ_SECONDS,
    ) -> None:
        self._store = store
        self.read_seconds = read_seconds
        """How long `identify` waits for the store's reads before raising `UsersUnavailable`."""
        self._by_hash: dict[str, str] = {}
        self._names: frozenset[str] = frozenset()
        self.throttle = SignInThrottle(monotonic)
        """Who waits how long before their token is checked."""
        self._reload = SharedRead(self._read_users)
        """Reads of the user table: callers asking together share one, and none is answered
        by a read that began before it asked (which may hold a user revoked since)."""
        self._users_version: int | None = None
        """The version `users_changed` last saw (the revocation watcher's)."""
        self._known_version: int | None = None
        """The version the table had when `identify` last made sure it was read."""
        self._current_as_of: int | None = None
        """The store's `data_version_now` read before `identify` last made sure the table was
        current: while the store still says the same, nothing was committed since."""
        self._version_for_sign_in = SharedRead(lambda: self._store.users_version())
        """The version as handshakes ask for it: those arriving together share one read of it
        (each read is a round trip to the store's thread, or to PostgreSQL)."""

    @property
    def user_names(self) -> frozenset[str]:
        """Every user's name; built once per reload, since every write reads it (twice)."""
        return self._names

    async def refresh(self) -> None:
        """Reload the user table with a read that begins after this call. Callers that arrive
        together share it, so a thousand handshakes at once cost a read or two, not a thousand
        queued ones. Sharing a read already running let a handshake that saw a revocation take
        the table from before it, and let the revoked user in."""
        await self._reload()

    async def _read_users(self) -> None:
        users = await self._store.users()
        self._by_hash = {u.token_hash: u.name for u in users}
        self._names = frozenset(self._by_hash.values())

    async def users_changed(self) -> bool:
        """Re-read the user table if the store says it changed since the last look (cheap when
        it did not); True if it did, so the server can end a revoked user's connections."""
        version = await self._store.users_version()
        if version == self._users_version:
            return False
        await self.refresh()
        self._users_version = version
        return True

    async def identify(self, token: str | None, peer: str, console: str = "") -> str | None:
        """The user owning `token`, or None. After repeated failures from this console of
        `peer`, or from many consoles there, every attempt waits longer before its token is
        checked (up to two seconds), which turns guessing into a very slow business.

        Raises:
            UsersUnavailable: the store did not answer within `read_seconds`, or failed. A read
                that hung held every sign-in until the handshake timed out, with no answer.
        """
        wait = self.throttle.wait(peer, console)
        if wait == 0 and (known := self._known_at_once(token)) is not None:
            return known
        await asyncio.sleep(wait)
        try:
            async with asyncio.timeout(self.read_seconds):
                return await self._identify(token, peer, console)
        except (TimeoutError, StoreError) as exc:
            # The shared read itself goes on (shielded): it answers whoever asks next, once
            # the store is back.
            raise UsersUnavailable(str(exc) or "the user table was not read in time") from exc

    def _known_at_once(self, token: str | None) -> str | None:
        """The user owning `token` if nothing was committed since the table was last made sure
        of: known without a read, so without a timeout to arm or a turn of the event loop given
        up (every console's connect waits for this answer; sync21). None: ask as usual."""
        committed = self._store.data_version_now()
        if committed is None or committed != self._current_as_of:
            return None
        return self._lookup(token)

    async def _identify(self, token: str | None, peer: str, console: str) -> str | None:
        # Every handshake asks the store for the user table's version (a read that began after
        # the handshake asked, shared with the handshakes asking at the same time) and re-reads
        # the table only when it changed, so `warroom user add` and `warroom user revoke` take
        # effect on a running server at once. Re-reading it at every handshake was most of
        # warroom's own cost of 200 consoles joining, then one version read per handshake was.
        # A token still unknown re-reads it anyway, as before.
        await self._read_users_if_changed()
        name = self._lookup(token)
        if name is None:
            await self.refresh()
            name = self._lookup(token)
        if name is None:
            self.throttle.failed(peer, console)
        return name

    async def _read_users_if_changed(self) -> None:
        # Nothing committed to the store since the table was last made sure of: no need to ask
        # it (on SQLite, asking is a round trip to the store's thread, a tenth of a console's
        # connect; the side read is 20 us). Read before asking, and kept only once the table is
        # known current: a commit in between changes the number, so the next handshake asks.
        committed = self._store.data_version_now()
        if committed is not None and committed == self._current_as_of:
            return
        # The version is taken before the table is read: a change in between is seen again next
        # time, never missed. `users_changed` keeps its own version, so that a change seen here
        # still ends a revoked user's open connections there.
        version = await self._version_for_sign_in()
        if version != self._known_version:
            await self.refresh()
            self._known_version = version
        self._current_as_of = committed

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
