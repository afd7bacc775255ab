"""The bookkeeping of the SIGKILL rounds, shared by the single-node rounds (SQLite) and the
cluster's (PostgreSQL): consoles writing in bursts, a kill once enough of a round's writes are
acknowledged, and the checks that nothing acknowledged was lost and nothing applied twice.

A round's writes are `AddEntry` commands whose ids start with `r` (`r{round}-{writer}-{n}`), so
the checks can tell them from the declaration and role changes made before the rounds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.core.wire import Peer
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

WRITES_EACH = 30
WINDOW = 5
"""Each console keeps at most this many writes in flight, so a kill always finds some unacked."""
KILL_AFTER_ACKS = 20
"""A round's kill comes once this many of its writes are acknowledged: in the middle of it."""


class Writer:
    """One person's console: a reconnecting client with an on-disk outbox."""

    def __init__(self, name: str, token: str, url: str, outbox: Path) -> None:
        self.name = name
        self.token = token
        self.url = url
        """The address (or comma-separated addresses) its next client is given."""
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


async def sign_up(db: Path | str, users: Iterable[str]) -> dict[str, str]:
    """A token for each of `users` and for "auditor", who reads the log for the checks."""
    return {name: await create_user(db, name) for name in (*users, "auditor")}


async def staffed_incident(declarer: WarroomClient, writers: Iterable[Writer]) -> int:
    """The incident the rounds write to: `declarer` declares it, makes bob its TL and carol its
    scribe (users the caller signed up), and every console follows it. Returns its id."""
    declared = await declarer.execute(DeclareIncident(id=new_id(), title="DB", severity=1))
    incident_id = declared.incident_id
    for name, role in (("bob", Role.TL), ("carol", Role.SCRIBE)):
        await declarer.execute(
            AssignRole(id=new_id(), incident_id=incident_id, role=role, user=name)
        )
    for w in writers:
        await w.client.follow(incident_id)
    return incident_id


async def burst(writer: Writer, incident_id: int, round_: int, writes: int = WRITES_EACH) -> None:
    """The round's writes of one console, at most `WINDOW` unacknowledged at a time."""
    for n in range(writes):
        cid = f"r{round_}-{writer.name}-{n}"
        future = writer.client.submit(AddEntry(id=cid, incident_id=incident_id, text=cid))
        writer.futures[cid] = future
        writer.submitted.append(cid)
        if n % WINDOW == WINDOW - 1:
            await future


def acked_by_all(writers: Iterable[Writer]) -> set[str]:
    return set().union(*(w.acked() for w in writers))


def kill_mid_burst(writers: Sequence[Writer], kill: Callable[[], None]) -> asyncio.Event:
    """Arm the round's kill: `kill()` runs once `KILL_AFTER_ACKS` more writes are acknowledged;
    the returned event is set when it has run.

    The check runs inside a client's frame dispatch, the moment an ack is applied: the acks of
    the same commit for the other consoles may still be in flight, which is the point.
    """
    killed = asyncio.Event()
    before = sum(len(w.acked()) for w in writers)

    def check(_: ClientUpdate) -> None:
        if killed.is_set():
            return
        if sum(len(w.acked()) for w in writers) - before >= KILL_AFTER_ACKS:
            kill()
            killed.set()

    for w in writers:
        w.client.add_listener(check)
    return killed


@dataclass
class Kill:
    """One round's kill, as `kill_during_bursts` saw it."""

    at: float
    """`time.monotonic()` when the kill had run."""
    acked: set[str]
    """The writes acknowledged once the cut-off consoles had read all the dead node sent."""
    in_flight: set[str]
    """The writes submitted but not acknowledged then."""
    bursts: dict[str, asyncio.Task[None]]
    """Each console's burst, by name, still running through the failover."""


async def kill_during_bursts(
    writers: Sequence[Writer],
    kill: Callable[[], None],
    incident_id: int,
    round_: int,
    *,
    writes: int = WRITES_EACH,
    cut_off: Iterable[Writer] | None = None,
) -> Kill:
    """Start every console's burst of the round, `kill()` in the middle of it (see
    `kill_mid_burst`), then let each console the kill cut off (by default all) read what the dead
    node had already sent (acks committed before the kill), up to the end of its connection."""
    killed = kill_mid_burst(writers, kill)
    bursts = {w.name: asyncio.create_task(burst(w, incident_id, round_, writes)) for w in writers}
    await killed.wait()
    at = time.monotonic()
    for w in writers if cut_off is None else cut_off:
        await lost_connection(w.client).wait()
    acked = acked_by_all(writers)
    submitted = {cid for w in writers for cid in w.submitted}
    return Kill(at, acked, submitted - acked, bursts)


async def bursts_drained(kill: Kill, writers: Iterable[Writer]) -> None:
    """The round's bursts are done and every console's outbox is empty: all is committed."""
    await asyncio.gather(*kill.bursts.values())
    for w in writers:
        await drained(w.client).wait()


def lost_connection(client: WarroomClient) -> asyncio.Event:
    return client_reached(client, lambda: client.status is not ConnectionStatus.CONNECTED)


async def read_log(auditor_token: str, url: str, incident_id: int) -> list[Event]:
    """The incident's whole log as the node at `url` holds it, page after page (twenty rounds
    make a log larger than one `read_log` page)."""
    events: list[Event] = []
    peer = await Peer.open(url, auditor_token)
    try:
        more = True
        while more:
            frame = {"type": "read_log", "incident_id": incident_id, "after": len(events)}
            reply = await peer.request(frame)
            assert reply["type"] == "events", reply
            events += [Event.model_validate(e) for e in reply["events"]]
            more = reply["more"]
    finally:
        await peer.close()
    return events


def check_log(events: list[Event]) -> list[str]:
    """Gap-free sequence and no command applied twice; returns the command ids in order."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "gap in the sequence"
    ids = [e.command_id for e in events if e.command_id is not None]
    assert len(ids) == len(set(ids)), "a write was applied twice"
    return [i for i in ids if i is not None]


def check_survivors(rows: list[tuple[int, str | None]], acked: set[str], round_: int) -> set[str]:
    """What the database held with the node down, as (seq, command id) rows: gap-free, nothing
    twice, every acknowledged write there. Returns the command ids that survived."""
    assert [s for s, _ in rows] == list(range(1, len(rows) + 1)), f"round {round_}: gap"
    survived = [c for _, c in rows if c is not None]
    assert len(survived) == len(set(survived)), f"round {round_}: applied twice"
    lost = acked - set(survived)
    assert not lost, f"round {round_}: acknowledged writes lost: {sorted(lost)[:5]}"
    return set(survived)


def check_everything_once(events: list[Event], writers: Iterable[Writer], round_: int) -> None:
    """Once the consoles drained: every write ever submitted is in the log exactly once."""
    ids = check_log(events)
    everything = [cid for w in writers for cid in w.submitted]
    assert sorted(i for i in ids if i.startswith("r")) == sorted(everything), (
        f"round {round_}: submitted writes missing or extra"
    )


async def check_converged(writers: Iterable[Writer], incident_id: int, events: list[Event]) -> None:
    """Every console's copy reaches the log's end and equals the replayed log; their writes are
    settled from then on."""
    expected = replay(events).model_dump()
    for w in writers:
        await seq_reached(w.client, incident_id, len(events)).wait()
        assert w.client.states[incident_id].model_dump() == expected, w.name
        w.settled.update(w.submitted)
