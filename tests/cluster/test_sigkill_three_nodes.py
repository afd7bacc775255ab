"""SIGKILL one of three running nodes in the middle of a burst, round after round; its consoles
fail over to the others and the killed node is started again.

Three `warroom serve --db postgresql://…` child processes on one real database, all running;
six consoles with on-disk outboxes spread over them (each given every address, its own node
first), so every round writes on all three nodes at once and relies on the cross-node fan-out;
after each round the consoles that failed over reconnect to the restarted node.
In each round a node serving some consoles is SIGKILLed once 20 writes of the round are
acknowledged. After each kill: every acknowledged write is in the database exactly once and the
sequence is gap-free. Once the node is back and the bursts are done: every write ever submitted
is in the log exactly once, and every console, whichever node it is on, equals the replayed log.

ROUNDS is 8, not the issue's 20: each round restarts a node process (about 2 s on this shared
2-core machine, more under load); the eight take about 70 s here.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from tests.cluster.test_sigkill_failover import stored_command_ids
from tests.core.serverproc import free_port
from tests.faults.test_sigkill_rounds import Writer, burst, check_log, lost_connection, read_log
from tests.support.client_sync import client_reached, drained, seq_reached
from tests.support.node_proc import NodeProc
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ClientUpdate, ConnectionStatus
from warroom.domain.commands import AssignRole, DeclareIncident
from warroom.domain.projection import replay
from warroom.domain.roles import Role
from warroom.users import create_user

ROUNDS = 8
NODES = 3
CONSOLES = 6
KILL_AFTER_ACKS = 20
USERS = ("alice", "bob", "carol")


def _starting_at(nodes: list[NodeProc], first: int) -> str:
    """Every node's address, `first` first: the console's own node, then the others."""
    return ",".join(node.url for node in nodes[first:] + nodes[:first])


def elsewhere(client: WarroomClient, killed: str) -> asyncio.Event:
    """Set once the console is connected to a node other than the killed one."""
    return client_reached(
        client, lambda: client.status is ConnectionStatus.CONNECTED and client.url != killed
    )


async def test_sigkill_one_of_three_running_nodes_mid_burst_consoles_converge_losing_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    tokens = {name: await create_user(pg_url, name) for name in (*USERS, "auditor")}
    nodes = [NodeProc(pg_url, free_port(), tmp_path / f"node{n}.log") for n in range(NODES)]
    for node in nodes:
        await node.start()
    writers = []
    for n in range(CONSOLES):
        first = n % NODES
        addresses = _starting_at(nodes, first)
        user = USERS[n % len(USERS)]
        writers.append(Writer(f"{user}{n}", tokens[user], addresses, tmp_path / f"ob{n}.jsonl"))
    in_flight_at_kills = 0
    failovers: list[float] = []
    try:
        async with asyncio.timeout(240):  # a bound for a hang, not a speed target
            for w in writers:
                await w.client.start()
            assert {w.client.url for w in writers} == {node.url for node in nodes}
            alice = writers[0].client
            declared = await alice.execute(DeclareIncident(id=new_id(), title="DB", severity=1))
            incident_id = declared.incident_id
            for name, role in (("bob", Role.TL), ("carol", Role.SCRIBE)):
                await alice.execute(
                    AssignRole(id=new_id(), incident_id=incident_id, role=role, user=name)
                )
            for w in writers:
                await w.client.follow(incident_id)

            for round_ in range(ROUNDS):
                serving = {w.client.url for w in writers}
                # Round-robin over the nodes, skipping one that no console is on now.
                victim = next(
                    node
                    for node in nodes[round_ % NODES :] + nodes[: round_ % NODES]
                    if node.url in serving
                )
                moving = [w for w in writers if w.client.url == victim.url]
                killed = asyncio.Event()
                before = sum(len(w.acked()) for w in writers)

                def kill_mid_burst(
                    _: ClientUpdate,
                    before: int = before,
                    killed: asyncio.Event = killed,
                    victim: NodeProc = victim,
                ) -> None:
                    if killed.is_set():
                        return
                    if sum(len(w.acked()) for w in writers) - before >= KILL_AFTER_ACKS:
                        victim.kill()
                        killed.set()

                for w in writers:
                    w.client.add_listener(kill_mid_burst)
                tasks = [asyncio.create_task(burst(w, incident_id, round_)) for w in writers]
                await killed.wait()
                killed_at = time.monotonic()
                for w in moving:
                    await lost_connection(w.client).wait()
                acked_at_kill = set().union(*(w.acked() for w in writers))
                submitted = {cid for w in writers for cid in w.submitted}
                in_flight_at_kills += len(submitted - acked_at_kill)

                rows = await stored_command_ids(pg_url, incident_id)
                assert [s for s, _ in rows] == list(range(1, len(rows) + 1))
                survived = [c for _, c in rows if c is not None]
                assert len(survived) == len(set(survived)), f"round {round_}: applied twice"
                lost = acked_at_kill - set(survived)
                assert not lost, f"round {round_}: acknowledged writes lost: {sorted(lost)[:5]}"

                for w in moving:
                    await elsewhere(w.client, victim.url).wait()
                failovers.append(time.monotonic() - killed_at)
                await victim.start()

                await asyncio.gather(*tasks)
                for w in writers:
                    await drained(w.client).wait()
                events = await read_log(tokens["auditor"], victim.url, incident_id)
                ids = check_log(events)
                everything = [cid for w in writers for cid in w.submitted]
                assert sorted(i for i in ids if i.startswith("r")) == sorted(everything), (
                    f"round {round_}: submitted writes missing or extra"
                )
                expected = replay(events).model_dump()
                for w in writers:
                    await seq_reached(w.client, incident_id, len(events)).wait()
                    assert w.client.states[incident_id].model_dump() == expected, w.name
                    w.settled.update(w.submitted)
                # Its consoles go back to the restarted node (as a load balancer would spread
                # new sessions), so the next rounds still write on every node.
                for w in moving:
                    w.url = _starting_at(nodes, nodes.index(victim))
                    await w.revive()
                    await w.client.follow(incident_id)
                assert {w.client.url for w in writers} == {node.url for node in nodes}
        assert in_flight_at_kills > 0, "no kill caught a write in flight"
        print(
            f"\n{ROUNDS} kills of one of {NODES} running nodes; {in_flight_at_kills} writes in "
            f"flight at a kill; kill -> its consoles on another node: p50 "
            f"{statistics.median(failovers):.2f} s, max {max(failovers):.2f} s"
        )
    finally:
        for w in writers:
            await w.client.close()
        for node in nodes:
            node.stop()
