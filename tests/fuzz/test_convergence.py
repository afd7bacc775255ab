"""Any interleaving of the same writes from three people converges: every console ends with the
same state, equal to the replayed log; appends all land; of competing changes to one field
exactly one wins and the others are told the current value."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.client_sync import seq_reached
from warroom.client.session import CommandRefused, WarroomClient, new_id
from warroom.domain.checklist import ItemState
from warroom.domain.commands import (
    AddEntry,
    AssignRole,
    Command,
    DeclareIncident,
    SetItemState,
    SetSeverity,
    SetTitle,
)
from warroom.domain.errors import ErrorCode
from warroom.domain.projection import replay
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.node import WarroomNode
from warroom.protocol.frames import Ack

AddUser = Callable[[str], Awaitable[str]]
PEOPLE = ("alice", "bob", "carol")
"""alice declares (IC), bob is TL, carol is Scribe."""
TITLE = "Checkout errors"


@dataclass(frozen=True)
class Write:
    """One intended change, made against the incident as everyone first saw it."""

    who: int
    kind: str
    """entry, item, severity or title"""
    target: Any = None
    value: Any = None

    def command(self, incident_id: int, tag: str) -> Command:
        if self.kind == "entry":
            return AddEntry(id=new_id(), incident_id=incident_id, text=f"{tag}:{self.value}")
        if self.kind == "item":
            return SetItemState(
                id=new_id(),
                incident_id=incident_id,
                item_id=self.target,
                state=self.value,
                expected=ItemState.TODO,
            )
        if self.kind == "severity":
            return SetSeverity(
                id=new_id(),
                incident_id=incident_id,
                severity=self.value,
                expected=Severity.SEV3,
                reason="fuzz",
            )
        return SetTitle(id=new_id(), incident_id=incident_id, title=self.value, expected=TITLE)


@st.composite
def write_sets(draw: st.DrawFn) -> list[Write]:
    writes = [
        Write(who, "entry", value=f"{PEOPLE[who]}-{n}")
        for who in range(3)
        for n in range(draw(st.integers(0, 6)))
    ]
    changes = st.sampled_from([ItemState.IN_PROGRESS, ItemState.DONE, ItemState.NOT_APPLICABLE])
    for item in (1, 2, 3):
        for who in draw(st.lists(st.integers(0, 2), max_size=3)):
            writes.append(Write(who, "item", target=item, value=draw(changes)))
    for who in draw(st.lists(st.integers(0, 1), max_size=3)):
        writes.append(Write(who, "severity", value=draw(st.sampled_from([Severity.SEV1, 2]))))
    for n in range(draw(st.integers(0, 2))):
        writes.append(Write(0, "title", value=f"{TITLE} ({n})"))
    return writes


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[Write], list[bool]]:
    """The writes in any order, with random points where everything sent so far is awaited."""
    order = draw(st.permutations(draw(write_sets())))
    return order, draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))


@pytest.fixture
async def tokens(add_user: AddUser) -> list[str]:
    return [await add_user(name) for name in PEOPLE]


@asynccontextmanager
async def consoles(server: WarroomNode, tokens: list[str]) -> AsyncIterator[list[WarroomClient]]:
    """Fresh consoles for each example, so that examples do not share client state."""
    clients = [WarroomClient(server.url, token) for token in tokens]
    try:
        for client in clients:
            await client.start()
        yield clients
    finally:
        for client in clients:
            await client.close()


async def new_incident(clients: list[WarroomClient]) -> int:
    alice = clients[0]
    declared = await alice.execute(DeclareIncident(id=new_id(), title=TITLE, severity=3))
    incident_id = declared.incident_id
    for role, name in ((Role.TL, "bob"), (Role.SCRIBE, "carol")):
        await alice.execute(AssignRole(id=new_id(), incident_id=incident_id, role=role, user=name))
    for client in clients:
        await client.follow(incident_id)
    return incident_id


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules())
async def test_any_interleaving_of_the_same_writes_converges_on_every_console(
    server: WarroomNode, tokens: list[str], schedule: tuple[list[Write], list[bool]]
) -> None:
    order, flushes = schedule
    async with asyncio.timeout(30), consoles(server, tokens) as clients:
        incident_id = await new_incident(clients)
        tag = f"i{incident_id}"
        pending: list[asyncio.Future[Ack]] = []
        results: list[tuple[Write, Ack | BaseException]] = []
        futures: list[asyncio.Future[Ack]] = []
        for write, flush in zip(order, flushes, strict=True):
            future = clients[write.who].submit(write.command(incident_id, tag))
            futures.append(future)
            pending.append(future)
            if flush:
                await asyncio.gather(*pending, return_exceptions=True)
                pending.clear()
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        results = list(zip(order, outcomes, strict=True))

        acks = [r for _, r in results if isinstance(r, Ack)]
        refusals = [(w, r) for w, r in results if not isinstance(r, Ack)]
        for write, refusal in refusals:
            assert isinstance(refusal, CommandRefused), refusal
            assert write.kind != "entry", "an append was refused"
            scribe_on_checklist = write.kind == "item" and write.who == 2
            tl_on_severity = write.kind == "severity" and write.who == 1
            if scribe_on_checklist or tl_on_severity:
                assert refusal.code is ErrorCode.FORBIDDEN
            else:
                assert refusal.code is ErrorCode.CONFLICT, (write, refusal)

        # Exactly one winner per contested field; the losers were told its current value.
        winners: dict[tuple[str, Any], Any] = {}
        for write, outcome in results:
            if isinstance(outcome, Ack) and write.kind != "entry":
                key = (write.kind, write.target)
                assert key not in winners, f"two writes won {key}"
                winners[key] = write.value
        for write, refusal in refusals:
            if isinstance(refusal, CommandRefused) and refusal.code is ErrorCode.CONFLICT:
                current = winners[(write.kind, write.target)]
                assert refusal.current == current, (write, refusal.current, current)

        seqs = sorted(a.seq for a in acks)
        assert seqs == list(range(4, 4 + len(acks))), "acknowledged seqs are gap-free"
        log = await clients[0].read_log(incident_id)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert len(log) == 3 + len(acks)
        expected = replay(log)
        for client in clients:
            await seq_reached(client, incident_id, len(log)).wait()
            assert client.states[incident_id].model_dump() == expected.model_dump()

        # The outcome that does not depend on the order: every append, every winner's value.
        notes = sorted(e.text for e in expected.timeline if e.kind == "note")
        assert notes == sorted(f"{tag}:{w.value}" for w in order if w.kind == "entry")
        for item in expected.checklist:
            assert item.state == winners.get(("item", item.id), ItemState.TODO)
        assert expected.incident.severity == winners.get(("severity", None), Severity.SEV3)
        assert expected.incident.title == winners.get(("title", None), TITLE)
