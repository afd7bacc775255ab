"""The periodic check for what other nodes committed reads the database outside the sequencer:
while its reads wait, another node's notified write is applied and a write of this node's is
decided and committed; once read, it still repairs a lost notification and finds an incident
declared on another node."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection

import pytest

from tests.cluster.test_notified_events import _declared, _note
from tests.support.sequencers import close_hubs, two_hubs
from warroom.domain.events import Event
from warroom.server.cluster import follow_other_nodes
from warroom.server.hub import Hub
from warroom.store.postgres import PostgresStore

GUARD = 30.0
"""Seconds before a wait that never ends fails the test (a hang guard, not a timing)."""


class _HeldReads:
    """Holds the store's reads of last seqs (the periodic check's first read) until released."""

    def __init__(self, store: PostgresStore) -> None:
        self.waiting = asyncio.Event()
        self.released = asyncio.Event()
        read = store.last_seqs

        async def held(incident_ids: Collection[int]) -> dict[int, int]:
            self.waiting.set()
            await self.released.wait()
            return await read(incident_ids)

        store.last_seqs = held  # type: ignore[method-assign]


async def test_a_notified_write_and_a_local_write_go_through_while_the_check_reads(
    pg_url: str, token: str
) -> None:
    incident, local = await _declared(pg_url, token, 2)
    stores, (first, second), tasks = await two_hubs(pg_url)
    held = _HeldReads(stores[1])
    applied = asyncio.Event()

    def seen(events: list[Event]) -> None:
        if any(e.incident_id == incident for e in events):
            applied.set()

    second.add_observer(seen)
    # The feed checks as soon as it is connected: that check's read waits until released.
    feed = asyncio.create_task(follow_other_nodes(second, stores[1], check_every=3600))
    try:
        async with asyncio.timeout(GUARD):
            await held.waiting.wait()
        assert await first.record(incident, _note("from the first node")) == 2
        async with asyncio.timeout(GUARD):
            await applied.wait()  # notified, and applied by the second node's sequencer
            assert await second.record(local, _note("on the second node")) == 2
        assert not held.released.is_set()
        state = second.incident_state(incident)
        assert state is not None
        assert state.timeline[-1].text == "from the first node"
    finally:
        held.released.set()
        feed.cancel()
        await asyncio.gather(feed, return_exceptions=True)
        await close_hubs(stores, tasks)


async def _check_in_turn(hub: Hub) -> None:
    hub.changed_elsewhere()  # every incident: the sequencer checks in its turn


async def _check_outside_the_sequencer(hub: Hub) -> None:
    await hub.check_other_nodes()


@pytest.mark.parametrize(
    "check",
    [_check_in_turn, _check_outside_the_sequencer],
    ids=["asked of the sequencer", "read outside the sequencer"],
)
async def test_the_check_repairs_lost_notifications_and_finds_new_incidents(
    pg_url: str, token: str, check: Callable[[Hub], Awaitable[None]]
) -> None:
    """Either way (the feed's periodic check reads outside the sequencer and hands what it
    finds to it), a write whose notification was lost and an incident declared elsewhere are
    found by a few index probes."""
    incident, barrier = await _declared(pg_url, token, 2)
    stores, (first, second), tasks = await two_hubs(pg_url)
    try:
        assert await first.record(incident, _note("missed")) == 2
        (later,) = await _declared(pg_url, token, 1)
        # Nothing was notified to the second hub: the check finds both changes, taken by the
        # sequencer in turn before the barrier.
        await check(second)
        await second.record(barrier, _note("barrier"))
        state = second.incident_state(incident)
        assert state is not None
        assert [e.text for e in state.timeline][-1] == "missed"
        assert later in {s.id for s in second.summaries}
        assert second.incident_state(later) is not None
    finally:
        await close_hubs(stores, tasks)
