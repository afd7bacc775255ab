"""A closed incident whose stored snapshot is damaged (torn, not JSON, not a state, another
incident's, at another seq) is rebuilt from its events when it is opened, as a live incident is:
a console following it gets the state the events make, never a refusal; its log reads whole,
and `warroom export` writes it."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cli import warroom
from tests.support.history import closed_log, written
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient
from warroom.domain.projection import replay
from warroom.node import start_node
from warroom.store.base import StoredSnapshot
from warroom.users import create_user

EVENTS = closed_log(1, datetime(2024, 3, 1, tzinfo=UTC))
SOUND = replay(EVENTS).model_dump_json()
OTHER = replay(closed_log(2, datetime(2024, 3, 1, tzinfo=UTC))).model_dump_json()

DAMAGES = {
    "torn in half": SOUND[: len(SOUND) // 2],
    "not json": "{not json",
    "not a state": "[1, 2, 3]",
    "empty object": "{}",
    "another incident's state": OTHER,
    "state at another seq": SOUND.replace(f'"seq":{EVENTS[-1].seq}', '"seq":1', 1),
    "hostile text": json.dumps(["\x1b[2J\x1b]0;owned\x07" + "A" * 100_000]),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
async def test_a_damaged_snapshot_of_a_closed_incident_is_rebuilt_from_its_events(
    db_path: Path, tmp_path: Path, damage: str
) -> None:
    await written(db_path, EVENTS, [StoredSnapshot(1, EVENTS[-1].seq, SOUND)])
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE snapshots SET state = ?", (DAMAGES[damage],))
    token = await create_user(db_path, "alice")

    async with await start_node(db_path, TEST_SETTINGS) as server:
        client = WarroomClient(server.url, token)
        await client.start()
        try:
            followed = await client.follow(1)
            assert json.loads(followed.model_dump_json()) == json.loads(SOUND)
            assert [e.seq for e in await client.read_log(1)] == [e.seq for e in EVENTS]
        finally:
            await client.close()
        target = tmp_path / "postmortem.json"
        exported = await warroom(
            "export", "1", "--format", "json", "-o", str(target), server=server, token=token
        )
        assert exported.code == 0, exported.err
        assert len(json.loads(target.read_text())["events"]) == len(EVENTS)
