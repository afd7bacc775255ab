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
from tests.faults.support import ServerProc, read_command_ids
from tests.support.sigkill_rounds import (
    Writer,
    acked_by_all,
    bursts_drained,
    check_converged,
    check_everything_once,
    check_log,
    check_survivors,
    kill_during_bursts,
    read_log,
    sign_up,
    staffed_incident,
)
from warroom.client.outbox import Outbox

ROUNDS = 20
WRITERS = ("alice", "bob", "carol")


async def test_sigkill_twenty_rounds_during_bursts_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "crash.db"
    tokens = await sign_up(db, WRITERS)
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
            incident_id = await staffed_incident(writers["alice"].client, writers.values())

            for round_ in range(ROUNDS):
                kill = await kill_during_bursts(
                    list(writers.values()), server.kill, incident_id, round_
                )
                unacked_at_kills += len(kill.in_flight)

                # What survived on disk, read straight from the file while the server is down.
                survived = check_survivors(read_command_ids(db, incident_id), kill.acked, round_)
                committed_but_unacked += len(kill.in_flight & survived)

                # Every 3rd round one console (each in turn) crashes too: its outbox must hold
                # everything it had not seen acknowledged.
                victim = writers[WRITERS[round_ // 3 % 3]] if round_ % 3 == 1 else None
                if victim is not None:
                    kill.bursts.pop(victim.name).cancel()
                    await victim.client.close()
                    kept = {f["id"] for f in Outbox(victim.outbox_path).pending}
                    victim_unacked = set(victim.submitted) - victim.acked()
                    assert victim_unacked <= kept, (
                        f"round {round_}: outbox lost {sorted(victim_unacked - kept)[:5]}"
                    )
                    for cid in victim_unacked:  # answered later to the revived console
                        del victim.futures[cid]
                acked_before_restart = acked_by_all(writers.values())

                await server.start()
                if victim is not None:
                    await victim.revive()
                    await victim.client.follow(incident_id)

                # Right after the restart (resends may be racing): still nothing twice.
                early = check_log(await read_log(tokens["auditor"], server.url, incident_id))
                assert acked_before_restart <= set(early)

                # The clients reconnect by themselves and drain what they kept.
                await bursts_drained(kill, writers.values())
                events = await read_log(tokens["auditor"], server.url, incident_id)
                check_everything_once(events, writers.values(), round_)
                for w in writers.values():
                    assert Outbox(w.outbox_path).pending == []
                    for cid in set(w.submitted) - acked_before_restart:
                        future = w.futures.get(cid)
                        if future is None:
                            continue  # answered to the revived console, which has no future
                        # A write that was on disk already comes back as a duplicate.
                        assert future.result().duplicate == (cid in survived), cid
                await check_converged(writers.values(), incident_id, events)
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
