"""PostgreSQL restarted under two nodes in the middle of a burst: the nodes answer `unavailable`
while it is down, nothing they acknowledged is lost, and they recover by themselves (writes,
and the fan-out between them) without being restarted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.client_sync import until
from tests.support.postgres import PostgresCluster, running_postgres
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.domain.commands import AddEntry, AssignRole, DeclareIncident
from warroom.domain.errors import ErrorCode
from warroom.node import start_node
from warroom.protocol.frames import Ack
from warroom.users import create_user

BURST = 40
"""Writes in flight on each node when the database goes away."""
RECOVERY_ATTEMPTS = 200
"""Resends of one write while the nodes' pools reconnect (each one waits for its answer)."""


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    """A server of this test's own: the session's shared one must not be restarted."""
    with running_postgres() as cluster:
        yield cluster


async def _until_saved(client: WarroomClient, write: AddEntry) -> Ack:
    """Resend the same write (same id) until a node saves it: what a console does."""
    for _ in range(RECOVERY_ATTEMPTS):
        try:
            return await client.execute(write)
        except CommandRefused as refused:
            if refused.code is not ErrorCode.UNAVAILABLE:
                raise
    raise AssertionError(f"{write.text!r} not saved after {RECOVERY_ATTEMPTS} attempts")


async def test_a_database_restart_mid_burst_loses_nothing_and_the_nodes_recover(
    private_postgres: PostgresCluster,
) -> None:
    # The server is this test's alone: its default database is as fresh as a new one.
    url = private_postgres.server.url("postgres")
    alice, bob = await create_user(url, "alice"), await create_user(url, "bob")
    async with (
        await start_node(url, TEST_SETTINGS) as a,
        await start_node(url, TEST_SETTINGS) as b,
    ):
        on_a, on_b = WarroomClient(a.url, alice), WarroomClient(b.url, bob)
        await on_a.start()
        await on_b.start()
        try:
            declared = await on_a.execute(
                DeclareIncident(id=new_id(), title="Database failover", severity=1)
            )
            incident = declared.incident_id
            await on_a.execute(
                AssignRole(id=new_id(), incident_id=incident, role="scribe", user="bob")
            )
            await on_a.follow(incident)
            writes = [
                (client, AddEntry(id=new_id(), incident_id=incident, text=f"{who} {n}"))
                for n in range(BURST)
                for client, who in ((on_a, "a"), (on_b, "b"))
            ]
            burst = [asyncio.ensure_future(c.execute(w)) for c, w in writes]
            # The database goes away once the first writes are in, the rest in flight.
            await asyncio.wait(burst, return_when=asyncio.FIRST_COMPLETED)
            private_postgres.stop()
            results = await asyncio.gather(*burst, return_exceptions=True)
            acked = {
                w.id: r.seq for (_, w), r in zip(writes, results, strict=True) if isinstance(r, Ack)
            }
            refused = [r for r in results if not isinstance(r, Ack)]
            assert refused, "every write was saved before the database went away"
            assert all(
                isinstance(r, CommandRefused) and r.code is ErrorCode.UNAVAILABLE for r in refused
            ), refused
            # Down: both nodes say so, and keep serving their consoles.
            for client, who in ((on_a, "a"), (on_b, "b")):
                with pytest.raises(CommandRefused) as down:
                    await client.execute(
                        AddEntry(id=new_id(), incident_id=incident, text=f"{who} while down")
                    )
                assert down.value.code is ErrorCode.UNAVAILABLE
            private_postgres.start()
            # Back: every write is resent with its id until saved, as consoles do.
            final = {w.id: (await _until_saved(c, w)).seq for c, w in writes}
            # Saved once: an acknowledged write keeps its seq, none is applied twice.
            assert all(final[cid] == seq for cid, seq in acked.items())
            assert len(set(final.values())) == len(writes)
            # Fan-out recovered too: node A's console gets a write made on node B.
            after = await _until_saved(
                on_b, AddEntry(id=new_id(), incident_id=incident, text="b after the restart")
            )
            await until(
                on_a,
                lambda: on_a.states[incident].seq >= after.seq,
                what="node A's console to get node B's write after the restart",
            )
            log = await on_a.read_log(incident)
            assert [e.seq for e in log] == list(range(1, after.seq + 1))
            texts = [e.body.text for e in log if e.body.type == "entry_added"]
            for _, write in writes:
                assert texts.count(write.text) == 1
            assert on_a.states[incident] == a.hub.incident_state(incident)
        finally:
            await on_a.close()
            await on_b.close()
