"""A closed incident whose stored event rows were damaged after it closed (a body that is not
JSON, or JSON of the wrong shape) is refused by `warroom export` without a traceback, and
nothing else suffers: the server keeps serving, another incident exports whole, and `warroom
archive` moves the damaged incident as it is, still refused the same way afterwards.

The server sends a closed incident's stored event rows without validating each (that is what
makes opening one quick, docs/performance.md "Limits under abuse, continued (hostile6)"), so it
is the reading end that refuses them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cli import warroom
from tests.support.history import closed_log, written
from tests.support.settings import TEST_SETTINGS
from warroom.node import start_node
from warroom.users import create_user

DAMAGES = {
    "body not json": "{not json",
    "body of the wrong shape": '{"text": 5}',
    "body a list": "[1]",
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
async def test_a_damaged_event_row_of_a_closed_incident_is_refused_and_harms_nothing_else(
    db_path: Path, damage: str
) -> None:
    resolved = datetime(2024, 3, 1, tzinfo=UTC)
    await written(db_path, closed_log(1, resolved) + closed_log(2, resolved))
    with sqlite3.connect(db_path) as db:
        db.execute(
            "UPDATE events SET body = ? WHERE incident_id = 1 AND seq = 3", (DAMAGES[damage],)
        )
    token = await create_user(db_path, "alice")

    async with await start_node(db_path, TEST_SETTINGS) as server:
        refused = await warroom("export", "1", server=server, token=token)
        sound = await warroom("export", "2", server=server, token=token)
    assert refused.code != 0
    assert "Traceback" not in refused.err
    assert refused.err.strip().splitlines()[-1] == (
        "warroom: the server's answer could not be read (internal)"
    )
    assert refused.out == ""
    assert sound.code == 0, sound.err
    assert '"format": "warroom-incident"' in sound.out

    archived = await warroom("archive", "--db", str(db_path), "--before", "2025-01-01")
    assert archived.code == 0, archived.err
    assert "archived 2 closed incidents (#1, #2)" in archived.out
    async with await start_node(db_path, TEST_SETTINGS) as server:
        again = await warroom("export", "1", server=server, token=token)
    assert again.code != 0
    assert "Traceback" not in again.err


@pytest.mark.parametrize("format_", ["json", "markdown", "html"])
async def test_a_body_that_splices_another_event_into_the_log_is_refused_by_export(
    db_path: Path, format_: str
) -> None:
    """A row's body is put into its event's JSON as stored (a closed incident opens without
    parsing each), so a body can close its event and add one: here a second seq 2 after seq 3.
    The log then reads, but does not fold, and export said so with a traceback."""
    resolved = datetime(2024, 3, 1, tzinfo=UTC)
    await written(db_path, closed_log(1, resolved) + closed_log(2, resolved))
    with sqlite3.connect(db_path) as db:
        (body,) = db.execute("SELECT body FROM events WHERE incident_id = 1 AND seq = 3").fetchone()
        at, actor = db.execute(
            "SELECT at, actor FROM events WHERE incident_id = 1 AND seq = 2"
        ).fetchone()
        spliced = (
            f'{body}}},{{"incident_id":1,"seq":2,"at":{json.dumps(at)},'
            f'"actor":{json.dumps(actor)},"command_id":null,"body":{body}'
        )
        db.execute("UPDATE events SET body = ? WHERE incident_id = 1 AND seq = 3", (spliced,))
    token = await create_user(db_path, "alice")

    async with await start_node(db_path, TEST_SETTINGS) as server:
        refused = await warroom("export", "1", "--format", format_, server=server, token=token)
        sound = await warroom("export", "2", "--format", format_, server=server, token=token)
    assert refused.code != 0
    assert "Traceback" not in refused.err
    assert refused.err.strip().splitlines()[-1] == (
        "warroom: incident 1's events do not make an incident: expected seq 4, got 2"
    )
    assert refused.out == ""
    assert sound.code == 0, sound.err
