"""A node takes the events other nodes commit to an incident nobody follows on it without
applying them: it parses only the kinds its observers look at now, and applies the events when
something asks for the incident's state. Whatever asks (a feature, a console subscribing, a
write) sees the latest state all the same."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import warroom.server.incidents
from tests.support.client_sync import until
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import AddEntry, DeclareIncident, SetTitle
from warroom.domain.events import Event, IncidentDeclared, TitleChanged, kinds_of
from warroom.domain.projection import apply_event
from warroom.node import WarroomNode

ENTRIES = ("first", "second", "third")


class _Counted:
    """Counts the events parsed from JSON (in this process only the node that did not write
    them parses them) and those applied late, when their state was asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed: list[str] = []
        self.applied_late: list[tuple[int, int]] = []
        """(incident, seq) of each event applied late."""
        parse = Event.model_validate_json

        def parsed(cls: type[Event], /, data: Any, **kwargs: Any) -> Event:
            event = parse(data, **kwargs)
            self.parsed.append(event.body.type)
            return event

        def applied(state: Any, event: Event) -> None:
            self.applied_late.append((event.incident_id, event.seq))
            apply_event(state, event)

        monkeypatch.setattr(Event, "model_validate_json", classmethod(parsed))
        monkeypatch.setattr(warroom.server.incidents, "apply_event", applied)


@pytest.fixture
async def follower_and_writer(
    two_nodes: tuple[WarroomNode, WarroomNode],
) -> tuple[WarroomNode, WarroomNode]:
    """The node that does not run the integrations, and the other (where the writes are made)."""
    a, b = two_nodes
    return (b, a) if a.leadership.is_leader else (a, b)


def _seen(node: WarroomNode, kinds: frozenset[str]) -> asyncio.Queue[Event]:
    """Every event of these kinds that another node commits, as `node` hears of it."""
    seen: asyncio.Queue[Event] = asyncio.Queue()

    def heard(events: list[Event]) -> None:
        for event in events:
            seen.put_nowait(event)

    node.hub.add_observer(heard, kinds=kinds)
    return seen


async def _declare_and_write(
    writer: WarroomClient, follower: WarroomNode, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, _Counted, list[Event]]:
    """Declare an incident on the writer's node, then (counting from when the follower has it)
    add `ENTRIES` and change its title; returns when the follower heard of the title."""
    seen = _seen(follower, kinds_of(IncidentDeclared, TitleChanged))
    told_nothing: list[Event] = []
    follower.hub.add_observer(told_nothing.extend, when=lambda: False)
    declared = await writer.execute(DeclareIncident(id=new_id(), title="Outage", severity=1))
    incident = declared.incident_id
    assert isinstance((await seen.get()).body, IncidentDeclared)
    counted = _Counted(monkeypatch)
    for text in ENTRIES:
        await writer.execute(AddEntry(id=new_id(), incident_id=incident, text=text))
    await writer.execute(
        SetTitle(id=new_id(), incident_id=incident, title="Database down", expected="Outage")
    )
    assert isinstance((await seen.get()).body, TitleChanged)
    return incident, counted, told_nothing


@contextlib.asynccontextmanager
async def _consoles(
    writer_node: WarroomNode, follower: WarroomNode, token: str
) -> AsyncIterator[tuple[WarroomClient, WarroomClient]]:
    """A console on the node where the writes are made, and one on the follower."""
    writer = WarroomClient(writer_node.url, token)
    other = WarroomClient(follower.url, token)
    await writer.start()
    await other.start()
    try:
        yield writer, other
    finally:
        await other.close()
        await writer.close()


async def test_an_unfollowed_incidents_events_are_parsed_as_observers_need_and_applied_when_asked(
    follower_and_writer: tuple[WarroomNode, WarroomNode],
    token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    follower, writer_node = follower_and_writer
    writer = WarroomClient(writer_node.url, token)
    await writer.start()
    try:
        incident, counted, told_nothing = await _declare_and_write(writer, follower, monkeypatch)
        # Only the title change was parsed (an observer looks at those), so nothing was applied,
        # though the follower's integrations (reminders, status page, metrics) all run.
        assert counted.parsed == ["title_changed"]
        assert told_nothing == []
        state = follower.hub.incident_state(incident)
        assert state is not None
        assert state == writer_node.hub.incident_state(incident)
        assert state.incident.title == "Database down"
        assert [e.text for e in state.timeline][-4:-1] == list(ENTRIES)  # then the title's
        assert counted.applied_late == [(incident, seq) for seq in (2, 3, 4, 5)]
        assert counted.parsed == ["title_changed", "entry_added", "entry_added", "entry_added"]
        # The list shows the latest line.
        (line,) = [s for s in follower.hub.summaries if s.id == incident]
        assert (line.title, line.seq) == ("Database down", 5)
    finally:
        await writer.close()


async def test_a_console_subscribing_on_the_node_gets_the_latest_state(
    follower_and_writer: tuple[WarroomNode, WarroomNode],
    token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    follower, writer_node = follower_and_writer
    async with _consoles(writer_node, follower, token) as (writer, watcher):
        incident, counted, _ = await _declare_and_write(writer, follower, monkeypatch)
        assert counted.parsed == ["title_changed"]
        state = await watcher.follow(incident)
        assert state == writer_node.hub.incident_state(incident)
        # Followed now: the next write from the other node is applied and sent at once.
        ack = await writer.execute(AddEntry(id=new_id(), incident_id=incident, text="fourth"))
        await until(
            watcher,
            lambda: watcher.states[incident].seq >= ack.seq,
            what="the follower's console to get the other node's write",
        )
        assert watcher.states[incident] == writer_node.hub.incident_state(incident)


async def test_a_write_on_the_node_is_decided_against_the_events_it_had_not_applied(
    follower_and_writer: tuple[WarroomNode, WarroomNode],
    token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    follower, writer_node = follower_and_writer
    async with _consoles(writer_node, follower, token) as (writer, other):
        incident, counted, _ = await _declare_and_write(writer, follower, monkeypatch)
        assert counted.parsed == ["title_changed"]
        ack = await other.execute(AddEntry(id=new_id(), incident_id=incident, text="on the other"))
        assert ack.seq == 6  # after the declaration, three entries and the title
        state = follower.hub.incident_state(incident)
        assert state is not None
        texts = [e.text for e in state.timeline]
        assert (texts[-5:-2], texts[-1]) == (list(ENTRIES), "on the other")
        assert state.incident.title == "Database down"


async def test_the_nodes_own_writes_to_other_incidents_leave_them_unapplied(
    follower_and_writer: tuple[WarroomNode, WarroomNode],
    token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    follower, writer_node = follower_and_writer
    async with _consoles(writer_node, follower, token) as (writer, other):
        incident, counted, _ = await _declare_and_write(writer, follower, monkeypatch)
        # The follower's features run after each of its own commits (its update reminders
        # among them): none of them asks for the other incident's state.
        declared = await other.execute(DeclareIncident(id=new_id(), title="Second", severity=2))
        for text in ENTRIES:
            await other.execute(AddEntry(id=new_id(), incident_id=declared.incident_id, text=text))
        assert [seq for i, seq in counted.applied_late if i == incident] == []
        state = follower.hub.incident_state(incident)
        assert state is not None
        assert state.seq == 5
        assert [seq for i, seq in counted.applied_late if i == incident] == [2, 3, 4, 5]


async def test_events_are_applied_at_once_beyond_the_number_kept_waiting(
    follower_and_writer: tuple[WarroomNode, WarroomNode],
    token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    follower, writer_node = follower_and_writer
    monkeypatch.setattr(warroom.server.incidents, "BEHIND_AT_MOST", 2)
    writer = WarroomClient(writer_node.url, token)
    await writer.start()
    try:
        incident, counted, _ = await _declare_and_write(writer, follower, monkeypatch)
        applied = [seq for i, seq in counted.applied_late if i == incident]
        # Each notification here carries one event: the second waiting makes them all apply.
        assert applied[:2] == [2, 3]
        assert 5 - len(applied) < 2
    finally:
        await writer.close()
