"""Fan-out across the nodes of one shared PostgreSQL database: every node follows the others'
commits and brings its incidents and their followers up to date.

Each commit notifies the changes channel with its incidents and last seqs, and their events when
they fit; this node's sequencer applies those that follow on from its copy (reading from the table
those not carried, or after a gap) and sends them to its followers, exactly as it sends its own.
An incident nobody follows on this node takes them without applying them, parsed only as far as
its observers need (`IncidentCache.follow_on`): they are applied when its state is asked for. A
check every `CHECK_EVERY` seconds, and one whenever the feed (re)connects, reads the last seq of
each loaded incident and the summaries of incidents declared since (a few index probes, whatever
the history's size) and repairs whatever a lost notification left behind. It reads outside the
sequencer (`Hub.check_other_nodes`), so the notifications and writes queued meanwhile do not
wait for its round trips; only the incidents it finds behind take a turn. Writes need none of
this to be right: a write decided against an out-of-date incident is refused by the store and
decided again (`Hub`, `StaleAppend`).

Triage items are shared the same way: every write of an item's row notifies the triage channel,
and `on_triage` (the triage desk's catch-up) reads the rows changed since the last change number
it saw, on each notification, on each (re)connection and at each check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from warroom.server.hub import Hub
from warroom.store.base import StoreError
from warroom.store.postgres import PostgresStore
from warroom.store.postgres_listen import ChangeListener

log = logging.getLogger(__name__)

CHECK_EVERY = 3.0
"""Seconds between two checks for changes the notifications did not bring."""


async def follow_other_nodes(
    hub: Hub,
    store: PostgresStore,
    check_every: float = CHECK_EVERY,
    on_triage: Callable[[], None] | None = None,
) -> None:
    """Feed the other nodes' commits to `hub`, and tell `on_triage` of triage items written, until
    cancelled. `on_triage` must only schedule work."""

    checking: asyncio.Task[None] | None = None
    again = False

    async def check_until_done() -> None:
        nonlocal again
        while True:
            again = False
            try:
                await hub.check_other_nodes()
            except StoreError as exc:  # the next check (or notification) repairs it
                log.warning("cannot check the changes of other nodes: %s", exc)
            except Exception:  # the feed must outlive a bad check
                log.exception("unexpected failure checking the changes of other nodes")
            if not again:
                return

    def check() -> None:
        nonlocal checking, again
        # One check at a time: asked for during one (the feed reconnected), it runs again after.
        if checking is None or checking.done():
            checking = asyncio.create_task(check_until_done(), name="warroom-check-other-nodes")
        else:
            again = True
        if on_triage is not None:
            on_triage()

    listener = ChangeListener(store, hub.changed_elsewhere, check, on_triage)
    feed = asyncio.create_task(listener.run(), name="warroom-change-feed")
    try:
        while True:
            await asyncio.sleep(check_every)
            check()
    finally:
        feed.cancel()
        if checking is not None:
            checking.cancel()
        await asyncio.gather(feed, *([checking] if checking else []), return_exceptions=True)
