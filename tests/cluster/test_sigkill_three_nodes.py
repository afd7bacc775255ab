"""SIGKILL one of three running nodes in the middle of a burst, twenty rounds (the issue's count);
its consoles fail over to the others while the killed node starts again in the background.

Three `warroom serve --db postgresql://…` child processes on one real database; six consoles
with on-disk outboxes spread over them (each given every address, its own node first), so every
round writes on every running node at once and relies on the cross-node fan-out. In each round a
running node that serves some consoles is SIGKILLed once 20 writes of the round are
acknowledged. After each kill: every acknowledged write is in the database exactly once and the
sequence is gap-free. Once the bursts are done: every write ever submitted is in the log exactly
once, and every console, whichever node it is on, equals the replayed log.

The killed node is restarted in the background while the next round runs against the survivors
(a round never starts with fewer than two nodes up), and the nodes are forked from a process that
has imported warroom already (tests/support/node_forker.py): a fresh interpreter spends about
2.5 s of this shared 2-core machine's CPU starting, nearly all of it importing. When a restarted
node is up, two consoles move onto it (as a load balancer would spread new sessions), so later
rounds still write on every node.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from tests.support.client_sync import client_reached, seq_reached
from tests.support.node_proc import NodeProc, nodes_on
from tests.support.postgres import stored_command_ids
from tests.support.sigkill_rounds import (
    Writer,
    bursts_drained,
    check_converged,
    check_everything_once,
    check_survivors,
    kill_during_bursts,
    read_log,
    sign_up,
    staffed_incident,
)
from warroom.client.session import WarroomClient
from warroom.client.updates import ConnectionStatus

ROUNDS = 20
NODES = 3
CONSOLES = 6
USERS = ("alice", "bob", "carol")
WRITES_EACH = 12
"""Per console and round: 72 a round, the kill after 20. Each write is a durable commit on a
shared disk, which makes up most of a round's time."""


def _starting_at(nodes: list[NodeProc], first: int) -> str:
    """Every node's address, `first` first: the console's own node, then the others."""
    return ",".join(node.url for node in nodes[first:] + nodes[:first])


def elsewhere(client: WarroomClient, killed: str) -> asyncio.Event:
    """Set once the console is connected to a node other than the killed one."""
    return client_reached(
        client, lambda: client.status is ConnectionStatus.CONNECTED and client.url != killed
    )


class Cluster:
    """The three node processes, which of them are starting again, and the consoles on each."""

    def __init__(self, nodes: list[NodeProc], writers: list[Writer]) -> None:
        self.nodes = nodes
        self.writers = writers
        self.restarting: dict[int, asyncio.Task[None]] = {}

    def restart_in_background(self, node: NodeProc) -> None:
        index = self.nodes.index(node)
        self.restarting[index] = asyncio.create_task(node.start(), name=f"restart node {index}")

    def up(self) -> list[NodeProc]:
        return [node for n, node in enumerate(self.nodes) if n not in self.restarting]

    def on(self, node: NodeProc) -> list[Writer]:
        return [w for w in self.writers if w.client.url == node.url]

    async def collect_restarts(self, *, wait: bool) -> list[NodeProc]:
        """The nodes whose restart finished (all of them, with `wait`); a failed start fails
        the test here."""
        done = [n for n, task in self.restarting.items() if wait or task.done()]
        for n in done:
            await self.restarting.pop(n)
        return [self.nodes[n] for n in done]

    async def spread_onto(self, node: NodeProc, incident_id: int) -> None:
        """Move consoles from the busiest nodes onto a node that came back, up to its share
        (failed-over consoles may have found it already)."""
        while len(self.on(node)) < CONSOLES // NODES:
            donor = max((n for n in self.up() if n is not node), key=lambda n: len(self.on(n)))
            w = self.on(donor)[0]
            w.url = _starting_at(self.nodes, self.nodes.index(node))
            await w.revive()
            await w.client.follow(incident_id)
            assert w.client.url == node.url


async def test_sigkill_one_of_three_running_nodes_twenty_rounds_consoles_converge_losing_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    tokens = await sign_up(pg_url, USERS)
    nodes = nodes_on(pg_url, tmp_path, NODES)
    await asyncio.gather(*(node.start() for node in nodes))
    writers = []
    for n in range(CONSOLES):
        addresses = _starting_at(nodes, n % NODES)
        user = USERS[n % len(USERS)]
        writers.append(Writer(f"{user}{n}", tokens[user], addresses, tmp_path / f"ob{n}.jsonl"))
    cluster = Cluster(nodes, writers)
    in_flight_at_kills = 0
    failovers: list[float] = []
    try:
        async with asyncio.timeout(280):  # a bound for a hang, not a speed target
            for w in writers:
                await w.client.start()
            assert {w.client.url for w in writers} == {node.url for node in nodes}
            incident_id = await staffed_incident(writers[0].client, writers)

            for round_ in range(ROUNDS):
                # A kill must leave a node up for its consoles: wait for a restart if needed.
                back = await cluster.collect_restarts(wait=len(cluster.up()) < 2)
                for node in back:
                    await cluster.spread_onto(node, incident_id)
                up = cluster.up()
                # Round-robin over the nodes that are up and serve some console.
                victim = next(
                    node
                    for node in nodes[round_ % NODES :] + nodes[: round_ % NODES]
                    if node in up and cluster.on(node)
                )
                moving = cluster.on(victim)
                kill = await kill_during_bursts(
                    writers, victim.kill, incident_id, round_, writes=WRITES_EACH, cut_off=moving
                )
                in_flight_at_kills += len(kill.in_flight)
                rows = await stored_command_ids(pg_url, incident_id)
                check_survivors(rows, kill.acked, round_)

                for w in moving:
                    await elsewhere(w.client, victim.url).wait()
                failovers.append(time.monotonic() - kill.at)
                cluster.restart_in_background(victim)

                await bursts_drained(kill, writers)
                # Everything is committed now; the node read from has it all once its own
                # consoles have seen the last seq in the database (the fan-out is asynchronous).
                last = len(await stored_command_ids(pg_url, incident_id))
                for w in writers:
                    await seq_reached(w.client, incident_id, last).wait()
                events = await read_log(tokens["auditor"], moving[0].client.url, incident_id)
                check_everything_once(events, writers, round_)
                await check_converged(writers, incident_id, events)
            await cluster.collect_restarts(wait=True)
        assert in_flight_at_kills > 0, "no kill caught a write in flight"
        print(
            f"\n{ROUNDS} kills of one of {NODES} running nodes; {in_flight_at_kills} writes in "
            f"flight at a kill; kill -> its consoles on another node: p50 "
            f"{statistics.median(failovers):.2f} s, max {max(failovers):.2f} s"
        )
    finally:
        for task in cluster.restarting.values():
            task.cancel()
        await asyncio.gather(*cluster.restarting.values(), return_exceptions=True)
        for w in writers:
            await w.client.close()
        for node in nodes:
            node.stop()
