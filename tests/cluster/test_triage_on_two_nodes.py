"""Triage dismissals taken by two nodes at once: the database numbers the triage log, so both are
committed with distinct seqs instead of one colliding and being refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient
from warroom.demo_data import waiting_alert
from warroom.domain.triage_log import TRIAGE_LOG
from warroom.node import start_node
from warroom.users import create_user

ROUNDS = 3


async def test_dismissals_on_two_nodes_at_once_both_commit_with_distinct_seqs(
    pg_url: str,
) -> None:
    tokens = [await create_user(pg_url, name) for name in ("alice", "bob")]
    a = await start_node(pg_url, TEST_SETTINGS)
    b = await start_node(pg_url, TEST_SETTINGS)
    clients = [WarroomClient(node.url, token) for node, token in zip((a, b), tokens, strict=True)]
    try:
        for client in clients:
            await client.start()
        seqs: list[int] = []
        for _ in range(ROUNDS):
            # The same alert group, on the triage list of both nodes.
            now = datetime.now(UTC)
            for node in (a, b):
                await node.integrations.triage.reconcile([waiting_alert(now)])
            item_id = max(a.integrations.triage.items)
            assert item_id == max(b.integrations.triage.items)
            acks = await asyncio.gather(
                *(c.dismiss_triage(item_id, f"noise seen by {n}") for n, c in enumerate(clients))
            )
            assert {ack.incident_id for ack in acks} == {TRIAGE_LOG}
            seqs.extend(ack.seq for ack in acks)
            for node in (a, b):
                # Dismissed: the next round's alert opens a new item.
                await node.integrations.triage.reconcile([])
        assert sorted(seqs) == list(range(1, 2 * ROUNDS + 1))
        log = await a.store.load_triage_log()
        assert [r.seq for r in log] == sorted(seqs)
        assert sorted(r.actor for r in log) == ["alice"] * ROUNDS + ["bob"] * ROUNDS
    finally:
        for client in clients:
            await client.close()
        await a.close()
        await b.close()
