"""A database whose stored snapshot of a closed incident was tampered with (JSON that does not
parse, JSON that is not a state, a seq past the log or not a number, another version) still
opens and serves: its log reads whole, and a console following the incident gets the incident
its events make or, where the server sent the damaged copy, a refusal it can show; it never
waits forever. (A snapshot that is a valid state contradicting its events is believed: the
snapshot is what spares reading them.)"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.history import closed_log, written
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import CommandRefused, WarroomClient
from warroom.domain.incident import IncidentState
from warroom.domain.projection import replay
from warroom.node import start_node
from warroom.store.base import STATE_VERSION, StoredSnapshot
from warroom.users import create_user

EVENTS = closed_log(1, datetime(2024, 3, 1, tzinfo=UTC))

TAMPERINGS = {
    "not json": ("UPDATE snapshots SET state = '{not json'", ()),
    "not a state": ("UPDATE snapshots SET state = '[1, 2, 3]'", ()),
    "seq past the log": ("UPDATE snapshots SET seq = 100000", ()),
    "seq not a number": ("UPDATE snapshots SET seq = 'x'", ()),
    "negative seq": ("UPDATE snapshots SET seq = -5", ()),
    "older version": ("UPDATE snapshots SET version = 'v0'", ()),
}


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
async def test_a_tampered_snapshot_of_a_closed_incident_reads_as_its_events(
    db_path: Path, tampering: str
) -> None:
    expected = replay(EVENTS)
    await written(db_path, EVENTS, [StoredSnapshot(1, EVENTS[-1].seq, expected.model_dump_json())])
    sql, parameters = TAMPERINGS[tampering]
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT version FROM snapshots").fetchone()[0] == STATE_VERSION
        db.execute(sql, parameters)
    token = await create_user(db_path, "alice")

    async with await start_node(db_path, TEST_SETTINGS) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        try:
            assert [e.seq for e in await client.read_log(1)] == [e.seq for e in EVENTS]
            # The guard is against a hang only: a console must hear back either way.
            async with asyncio.timeout(60):
                followed = await _followed(client)
            if isinstance(followed, CommandRefused):
                assert "could not be read" in followed.message
            else:
                # What a console shows is what the events make, never a damaged copy.
                shown = json.loads(followed.model_dump_json())
                assert shown == json.loads(expected.model_dump_json())
            assert [s.id for s in await client.list_incidents()] == [1]
        finally:
            await client.close()


async def _followed(client: WarroomClient) -> IncidentState | CommandRefused:
    try:
        return await client.follow(1)
    except CommandRefused as refused:
        return refused


async def test_a_damaged_snapshot_never_reaches_the_clients_log(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The client logs why it skipped a frame, never the frame: it can be megabytes, or hostile."""
    expected = replay(EVENTS)
    await written(db_path, EVENTS, [StoredSnapshot(1, EVENTS[-1].seq, expected.model_dump_json())])
    # Damaged deep inside: it names the incident at its seq, so the server sends it unvalidated
    # (a damaged outside is rebuilt from the events: test_damaged_closed_snapshots.py).
    title = "\x1b[2J\x1b]0;owned\x07" + "A" * 100_000
    framed = {"incident": {"id": 1, "title": title}, "seq": EVENTS[-1].seq, "x": 1}
    hostile = json.dumps(framed, separators=(",", ":"))  # compact, as the server writes
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE snapshots SET state = ?", (hostile,))
    token = await create_user(db_path, "alice")

    async with await start_node(db_path, TEST_SETTINGS) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        try:
            with caplog.at_level("WARNING", logger="warroom.client"):
                async with asyncio.timeout(60):
                    await _followed(client)
        finally:
            await client.close()
    skipped = [r.getMessage() for r in caplog.records if "skipped a frame" in r.getMessage()]
    assert skipped, "the client did not say it skipped the damaged frame"
    for message in skipped:
        assert "\x1b" not in message
        assert "AAAA" not in message
        assert len(message) < 1_000
