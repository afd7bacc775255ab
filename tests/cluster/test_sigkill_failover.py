"""SIGKILL the node the consoles are on, in the middle of their bursts; they fail over to the other.

Two `warroom serve --db postgresql://…` child processes on one real database; three consoles,
each given both addresses, with on-disk outboxes. In each round the node serving the consoles is
SIGKILLed mid-burst and the other node is started fresh, so it knows the war room from the
database alone (nothing here relies on cross-node fan-out, only on what a client reads when it
subscribes again). After each kill: every acknowledged write is in the database exactly once;
after the failover every write ever submitted is there exactly once, the sequence is gap-free,
and every console's copy equals the replayed log.

ROUNDS is 6; the issue's twenty kills are made by tests/cluster/test_sigkill_three_nodes.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.client_sync import until
from tests.support.node_proc import nodes_on
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

ROUNDS = 6
WRITERS = ("alice", "bob", "carol")


def on_node(client: WarroomClient, url: str) -> Callable[[], bool]:
    return lambda: client.status is ConnectionStatus.CONNECTED and client.url == url


async def test_sigkill_the_serving_node_mid_burst_clients_fail_over_and_lose_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    tmp = tmp_path
    tokens = await sign_up(pg_url, WRITERS)
    nodes = nodes_on(pg_url, tmp, 2)
    addresses = ",".join(node.url for node in nodes)
    await nodes[0].start()
    writers = {
        name: Writer(name, tokens[name], addresses, tmp / f"outbox-{name}.jsonl")
        for name in WRITERS
    }
    in_flight_at_kills = 0
    failover_seconds: list[float] = []
    try:
        async with asyncio.timeout(120):  # a bound for a hang, not a speed target
            for w in writers.values():
                await w.client.start()
            incident_id = await staffed_incident(writers["alice"].client, writers.values())

            for round_ in range(ROUNDS):
                serving, standby = nodes[round_ % 2], nodes[(round_ + 1) % 2]
                assert all(w.client.url == serving.url for w in writers.values())
                kill = await kill_during_bursts(
                    list(writers.values()), serving.kill, incident_id, round_
                )
                in_flight_at_kills += len(kill.in_flight)
                rows = await stored_command_ids(pg_url, incident_id)
                check_survivors(rows, kill.acked, round_)

                await standby.start()
                for w in writers.values():
                    await until(
                        w.client,
                        on_node(w.client, standby.url),
                        timeout=30,
                        what=f"{w.name} on the other node",
                    )
                failover_seconds.append(time.monotonic() - kill.at)

                await bursts_drained(kill, writers.values())
                events = await read_log(tokens["auditor"], standby.url, incident_id)
                check_everything_once(events, writers.values(), round_)
                assert all(w.client.url == standby.url for w in writers.values())
                await check_converged(writers.values(), incident_id, events)
        assert in_flight_at_kills > 0, "no kill caught a write in flight"
        print(
            f"\n{ROUNDS} node kills; {in_flight_at_kills} writes in flight at a kill; "
            f"kill -> all consoles on the other node (including its start-up): "
            f"max {max(failover_seconds):.2f} s"
        )
    finally:
        for w in writers.values():
            await w.client.close()
        for node in nodes:
            node.stop()
