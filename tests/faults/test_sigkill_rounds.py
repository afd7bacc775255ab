"""SIGKILL the server 20 times while several clients with outboxes write in bursts.

After each crash: every acknowledged write is on disk exactly once, every unacknowledged one is
on disk at most once and still waiting in its client (or in its outbox, for a client that crashed
too). After the restart the clients reconnect, resend, and every write ever submitted is in the
log exactly once, with a gap-free sequence, and every client's copy equals the replayed log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.core.serverproc import free_port
from tests.core.wire import Peer
from tests.faults.support import ServerProc, read_command_ids
from tests.support.client_sync import client_reached, drained, seq_reached
from warroom.client.outbox import Outbox
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ClientUpdate, ConnectionStatus
from warroom.domain.commands import AddEntry, AssignRole, DeclareIncident
from warroom.domain.events import Event
from warroom.domain.projection import replay
from warroom.domain.roles import Role
from warroom.protocol.frames import Ack
from warroom.users import create_user

ROUNDS = 20
WRITERS = ("alice", "bob", "carol")
WRITES_EACH = 30
WINDOW = 5
"""Each client keeps at most this many writes in flight, so a kill always finds some unacked."""
KILL_AFTER_ACKS = 20


class Writer:
    """One person's console: a reconnecting client with an on-disk outbox."""

    def __init__(self, name: str, token: str, url: str, outbox: Path) -> None:
        self.name = name
        self.token = token
        self.url = url
        self.outbox_path = outbox
        self.client = self._new_client()
        self.futures: dict[str, asyncio.Future[Ack]] = {}
        self.submitted: list[str] = []
        self.settled: set[str] = set()
        """Writes known to be in the log (checked at the end of a round)."""

    def _new_client(self) -> WarroomClient:
        return WarroomClient(self.url, self.token, outbox=Outbox(self.outbox_path), max_backoff=0.2)

    async def revive(self) -> None:
        """The console's process died: start a new client from what the outbox kept."""
        await self.client.close()
        self.client = self._new_client()
        await self.client.start()

    def acked(self) -> set[str]:
        return self.settled | {
            cid
            for cid, f in self.futures.items()
            if f.done() and not f.cancelled() and f.exception() is None
        }


async def burst(writer: Writer, incident_id: int, round_: int) -> None:
    for n in range(WRITES_EACH):
        cid = f"r{round_}-{writer.name}-{n}"
        future = writer.client.submit(AddEntry(id=cid, incident_id=incident_id, text=cid))
        writer.futures[cid] = future
        writer.submitted.append(cid)
        if n % WINDOW == WINDOW - 1:
            await future


def lost_connection(client: WarroomClient) -> asyncio.Event:
    return client_reached(client, lambda: client.status is not ConnectionStatus.CONNECTED)


async def read_log(auditor_token: str, url: str, incident_id: int) -> list[Event]:
    peer = await Peer.open(url, auditor_token)
    try:
        reply = await peer.request({"type": "read_log", "incident_id": incident_id})
    finally:
        await peer.close()
    assert reply["type"] == "events", reply
    return [Event.model_validate(e) for e in reply["events"]]


def check_log(events: list[Event]) -> list[str]:
    """Gap-free sequence and no command applied twice; returns the command ids in order."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "gap in the sequence"
    ids = [e.command_id for e in events if e.command_id is not None]
    assert len(ids) == len(set(ids)), "a write was applied twice"
    return [i for i in ids if i is not None]


async def test_sigkill_twenty_rounds_during_bursts_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "crash.db"
    tokens = {name: await create_user(db, name) for name in (*WRITERS, "auditor")}
    server = ServerProc(db, free_port(), tmp_path / "server.log")
    await server.start()
    writers = {
        name: Writer(name, tokens[name], server.url, tmp_path / f"outbox-{name}.jsonl")
        for name in WRITERS
    }
    unacked_at_kills = 0
    committed_but_unacked = 0
    try:
        # A bound for a hang, not a speed target: 20 server start-ups take minutes on a busy
        # 2-core machine (pytest-timeout's 300 s stays the outer bound).
        async with asyncio.timeout(280):
            for w in writers.values():
                await w.client.start()
            alice = writers["alice"].client
            declared = await alice.execute(DeclareIncident(id=new_id(), title="DB", severity=1))
            incident_id = declared.incident_id
            for name, role in (("bob", Role.TL), ("carol", Role.SCRIBE)):
                await alice.execute(
                    AssignRole(id=new_id(), incident_id=incident_id, role=role, user=name)
                )
            for w in writers.values():
                await w.client.follow(incident_id)

            for round_ in range(ROUNDS):
                killed = asyncio.Event()
                before = sum(len(w.acked()) for w in writers.values())

                def kill_mid_burst(
                    _: ClientUpdate, before: int = before, killed: asyncio.Event = killed
                ) -> None:
                    # Runs inside a client's frame dispatch, the moment an ack is applied: the
                    # acks of the same commit for the other consoles may still be in flight.
                    if killed.is_set():
                        return
                    if sum(len(w.acked()) for w in writers.values()) - before >= KILL_AFTER_ACKS:
                        server.kill()
                        killed.set()

                for w in writers.values():
                    w.client.add_listener(kill_mid_burst)
                tasks = {
                    name: asyncio.create_task(burst(w, incident_id, round_))
                    for name, w in writers.items()
                }
                await killed.wait()
                # Let every client read what the dead server had already sent (acks committed
                # before the kill), up to the end of its connection.
                for w in writers.values():
                    await lost_connection(w.client).wait()
                acked_at_kill = set().union(*(w.acked() for w in writers.values()))
                unacked = {cid for w in writers.values() for cid in w.submitted} - acked_at_kill
                unacked_at_kills += len(unacked)

                # What survived on disk, read straight from the file while the server is down.
                survived_rows = read_command_ids(db, incident_id)
                assert [s for s, _ in survived_rows] == list(range(1, len(survived_rows) + 1))
                survived = [c for _, c in survived_rows if c is not None]
                assert len(survived) == len(set(survived)), f"round {round_}: applied twice"
                lost = acked_at_kill - set(survived)
                assert not lost, f"round {round_}: acknowledged writes lost: {sorted(lost)[:5]}"
                committed_but_unacked += len(unacked & set(survived))

                # Every 3rd round one console (each in turn) crashes too: its outbox must hold
                # everything it had not seen acknowledged.
                victim = writers[WRITERS[round_ // 3 % 3]] if round_ % 3 == 1 else None
                if victim is not None:
                    tasks.pop(victim.name).cancel()
                    await victim.client.close()
                    kept = {f["id"] for f in Outbox(victim.outbox_path).pending}
                    victim_unacked = set(victim.submitted) - victim.acked()
                    assert victim_unacked <= kept, (
                        f"round {round_}: outbox lost {sorted(victim_unacked - kept)[:5]}"
                    )
                    for cid in victim_unacked:  # answered later to the revived console
                        del victim.futures[cid]
                acked_before_restart = set().union(*(w.acked() for w in writers.values()))

                await server.start()
                if victim is not None:
                    await victim.revive()
                    await victim.client.follow(incident_id)

                # Right after the restart (resends may be racing): still nothing twice.
                early = check_log(await read_log(tokens["auditor"], server.url, incident_id))
                assert acked_before_restart <= set(early)

                # The clients reconnect by themselves and drain what they kept.
                await asyncio.gather(*tasks.values())
                for w in writers.values():
                    await drained(w.client).wait()
                events = await read_log(tokens["auditor"], server.url, incident_id)
                ids = check_log(events)
                everything = [cid for w in writers.values() for cid in w.submitted]
                assert sorted(i for i in ids if i.startswith("r")) == sorted(everything), (
                    f"round {round_}: submitted writes missing or extra"
                )
                for w in writers.values():
                    assert Outbox(w.outbox_path).pending == []
                    w.settled.update(w.submitted)
                    for cid in set(w.submitted) - acked_before_restart:
                        future = w.futures.get(cid)
                        if future is None:
                            continue  # answered to the revived console, which has no future
                        # A write that was on disk already comes back as a duplicate.
                        assert future.result().duplicate == (cid in survived), cid
                expected = replay(events).model_dump()
                for w in writers.values():
                    await seq_reached(w.client, incident_id, len(events)).wait()
                    assert w.client.states[incident_id].model_dump() == expected
        # The test is only meaningful if the kills really caught writes in flight.
        assert unacked_at_kills > 0
        print(
            f"{ROUNDS} kills; {unacked_at_kills} writes in flight at a kill, "
            f"{committed_but_unacked} of them committed but unacknowledged"
        )
    finally:
        for w in writers.values():
            await w.client.close()
        server.stop()
