"""Anyone who may connect to the database may NOTIFY the changes channel: a node never applies
events a backend of another role says were committed (it reads the table instead), shrugs off
payloads of every malformed shape without crashing, and logs them briefly and escaped."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.support.client_sync import until
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import AddEntry, DeclareIncident
from warroom.domain.events import EntryAdded, Event
from warroom.domain.timeline import EntryKind
from warroom.node import WarroomNode
from warroom.store.postgres import CHANGES_CHANNEL, NOTIFY_LIMIT

FORGED = "forged by someone who may only connect"


@pytest.fixture
async def intruder(pg_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A session of a role that may connect and nothing more (CONNECT is PUBLIC's by default)."""
    role = f"intruder_{os.getpid()}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"DROP ROLE IF EXISTS {role}")
    await admin.execute(f"CREATE ROLE {role} LOGIN")
    conn = await asyncpg.connect(pg_url, user=role)
    try:
        yield conn
    finally:
        await conn.close()
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


def _forged_event(incident_id: int, seq: int) -> str:
    body = EntryAdded(kind=EntryKind.NOTE, text=FORGED)
    at = datetime.now(UTC)
    return Event(
        incident_id=incident_id, seq=seq, at=at, actor="alice", body=body
    ).model_dump_json()


def _hostile_payloads(incident: int, seq: int) -> list[str]:
    forged = _forged_event(incident, seq + 1)
    return [
        f"{incident}:{seq + 1}:{forged}",  # fits and follows on: the one that must not stick
        f"{incident}:{seq + 1}:{forged}\n{_forged_event(incident, seq + 2)}",
        f"{incident}:{10**17}",  # a seq far ahead: the table says there is nothing
        f"{incident}:{10**30}",  # does not fit a bigint
        f"-{incident}:{seq + 1}",
        f"0:{seq + 1}:{forged}",
        f"{incident + 10_000}:1:{_forged_event(incident + 10_000, 1)}",  # no such incident
        f"{incident}:{seq + 1}:" + '{"incident_id":"one","seq":[],"body":{}}',
        f"{incident}:{seq + 1}:not json at all",
        f"{incident}:x:{forged}",
        "\x1b[31m\x07" + "\x01garbage" * ((NOTIFY_LIMIT - 5) // 8),
        "",
    ]


async def test_events_notified_by_another_role_are_never_applied_the_table_is_read_instead(
    two_nodes: tuple[WarroomNode, WarroomNode],
    token: str,
    intruder: asyncpg.Connection[asyncpg.Record],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = two_nodes
    watcher = WarroomClient(a.url, token)
    writer = WarroomClient(b.url, token)
    await watcher.start()
    await writer.start()
    try:
        declared = await writer.execute(DeclareIncident(id=new_id(), title="Outage", severity=1))
        incident = declared.incident_id
        await watcher.follow(incident)
        caplog.set_level(logging.WARNING)
        for payload in _hostile_payloads(incident, declared.seq):
            await intruder.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, payload)
        # Notifications arrive in commit order: once this one is in, every forged one was seen.
        ack = await writer.execute(AddEntry(id=new_id(), incident_id=incident, text="real"))
        await until(
            watcher,
            lambda: watcher.states[incident].seq >= ack.seq,
            what="node A's console to get node B's real write",
        )
        state = a.hub.incident_state(incident)
        assert state is not None
        assert [e.text for e in state.timeline if e.text == FORGED] == []
        assert state == b.hub.incident_state(incident)
        assert watcher.states[incident] == state
        # Still following: a second real write arrives too.
        again = await writer.execute(AddEntry(id=new_id(), incident_id=incident, text="again"))
        await until(
            watcher,
            lambda: watcher.states[incident].seq >= again.seq,
            what="node A to keep following after the forged notifications",
        )
    finally:
        await watcher.close()
        await writer.close()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("warroom.store")]
    assert lines, "the malformed notifications were not logged"
    assert all(len(line) < 300 and "\x1b" not in line and "\x01" not in line for line in lines)


async def test_a_forged_notification_of_an_incident_not_loaded_loads_nothing_forged(
    two_nodes: tuple[WarroomNode, WarroomNode],
    token: str,
    intruder: asyncpg.Connection[asyncpg.Record],
) -> None:
    a, b = two_nodes
    writer = WarroomClient(b.url, token)
    watcher = WarroomClient(a.url, token)
    await writer.start()
    await watcher.start()
    try:
        # A declaration forged before the real one, under the id the real one will get.
        forged = _forged_event(1, 1)
        await intruder.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, f"1:1:{forged}")
        declared = await writer.execute(DeclareIncident(id=new_id(), title="Real", severity=2))
        incident = declared.incident_id
        await watcher.follow(incident)
        ack = await writer.execute(AddEntry(id=new_id(), incident_id=incident, text="real"))
        await until(
            watcher,
            lambda: watcher.states[incident].seq >= ack.seq,
            what="node A's console to get node B's real write",
        )
        assert FORGED not in [e.text for e in watcher.states[incident].timeline]
        assert watcher.states[incident] == b.hub.incident_state(incident)
    finally:
        await writer.close()
        await watcher.close()
