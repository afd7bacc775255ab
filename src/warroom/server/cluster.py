"""Fan-out across the nodes of one shared PostgreSQL database: every node follows the others'
commits and brings its incidents and their followers up to date.

Each commit notifies the changes channel with its incidents and last seqs, and their events when
they fit; this node's sequencer applies those that follow on from its copy (reading from the table
those not carried, or after a gap) and sends them to its followers, exactly as it sends its own. A
check every `CHECK_EVERY` seconds, and one whenever the feed (re)connects, reads the last seq of
each loaded incident and the summaries of incidents declared since (a few index probes, whatever
the history's size) and repairs whatever a lost notification left behind. Writes need none of
this to be right: a write decided against an out-of-date incident is refused by the store and
decided again (`Hub`, `StaleAppend`).
"""

from __future__ import annotations

import asyncio

from warroom.server.hub import Hub
from warroom.store.postgres import PostgresStore
from warroom.store.postgres_listen import ChangeListener

CHECK_EVERY = 3.0
"""Seconds between two checks for changes the notifications did not bring."""


async def follow_other_nodes(
    hub: Hub, store: PostgresStore, check_every: float = CHECK_EVERY
) -> None:
    """Feed the other nodes' commits to `hub` until cancelled."""
    listener = ChangeListener(store, hub.changed_elsewhere, hub.changed_elsewhere)
    feed = asyncio.create_task(listener.run(), name="warroom-change-feed")
    try:
        while True:
            await asyncio.sleep(check_every)
            hub.changed_elsewhere()
    finally:
        feed.cancel()
        await asyncio.gather(feed, return_exceptions=True)
