"""Alerts reaching two nodes at once, through their real Alertmanager webhook endpoints
(Alertmanager's webhook is taken by whichever node it reaches): each new alert gets a triage
item of its own in the database, whichever node opened it, and the same alert reaching both
nodes is one item, not two.

Before the store numbered new items, each node numbered them after its own items only: two
nodes opening items at once both took the same number, and the later save replaced the other
alert's item in the database.
"""

from __future__ import annotations

import asyncio

from tests.support.triage_nodes import deliver, notification, two_nodes
from warroom.node import WarroomNode

ROUNDS = 5


async def caught_up(node: WarroomNode) -> None:
    """`node` has read every triage row committed so far, as a notification makes it do."""
    await node.integrations.triage.catch_up()


def fingerprints(node: WarroomNode) -> dict[int, set[str]]:
    return {i: set(item.alerts) for i, item in node.integrations.triage.items.items()}


async def test_different_alerts_on_two_nodes_at_once_get_distinct_items_in_the_database(
    pg_url: str,
) -> None:
    async with two_nodes(pg_url) as (a, b):
        for n in range(ROUNDS):
            await asyncio.gather(
                deliver(a, notification(f"a{n:03x}", "DiskFull")),
                deliver(b, notification(f"b{n:03x}", "CpuHigh")),
            )
        stored = {item.id: set(item.alerts) for item in await a.store.load_triage()}
        every_alert = {f"{side}{n:03x}" for side in "ab" for n in range(ROUNDS)}
        assert sorted(fp for fps in stored.values() for fp in fps) == sorted(every_alert)
        assert all(len(fps) == 1 for fps in stored.values())
        # What each node holds, once it has read what the other wrote, is what the database
        # holds under the same number. (Without the read, a node may still hold the first
        # save of the other's item, before its alert was added: a race of the test, not a bug.)
        for node in (a, b):
            await caught_up(node)
            for item_id, fps in fingerprints(node).items():
                assert stored[item_id] == fps


async def test_the_same_alert_reaching_both_nodes_is_one_item(pg_url: str) -> None:
    async with two_nodes(pg_url) as (a, b):
        await deliver(a, notification("c0ffee", "DiskFull"))
        await asyncio.gather(
            deliver(a, notification("beef01", "CpuHigh")),
            deliver(b, notification("c0ffee", "DiskFull")),
        )
        stored = {item.id: set(item.alerts) for item in await a.store.load_triage()}
        assert sorted(stored.values(), key=sorted) == [{"beef01"}, {"c0ffee"}]
        # Node B took node A's item for the alert, and holds every item under the database's
        # number (node A's other item too, once it has read it: items are shared).
        await caught_up(b)
        assert {"c0ffee"} in fingerprints(b).values()
        for item_id, fps in fingerprints(b).items():
            assert stored[item_id] == fps
