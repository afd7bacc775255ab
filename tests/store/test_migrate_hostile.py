"""`warroom migrate` from a tampered SQLite file: rows of the wrong type, JSON that does not
parse, escape codes in text. Each is one clear, inert line and an empty target, never a
traceback and never a half-copied war room."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import warroom
from tests.support.history import closed_log
from warroom.store.open import open_store
from warroom.store.sqlite import SqliteStore
from warroom.users import create_user

TAMPERING = [
    "UPDATE events SET body = '{not json' WHERE seq = 2",
    "UPDATE events SET body = '[1, 2]' WHERE seq = 2",
    "UPDATE events SET seq = 'two' WHERE seq = 2",
    "UPDATE events SET at = 'yesterday' WHERE seq = 2",
    "UPDATE events SET at = '0001-01-01T00:00:00+14:00' WHERE seq = 2",
    "UPDATE events SET actor = char(27) || '[2J' WHERE seq = 2",
    "UPDATE events SET type = 'nuke' WHERE seq = 2",
    "UPDATE events SET incident_id = 99 WHERE seq = 2 AND incident_id = 1",
    "UPDATE users SET name = char(27) || ']0;pwned' || char(7)",
    "UPDATE incident_summaries SET body = '{not json'",
    "UPDATE incident_summaries SET phase = 'exploded'",
    "UPDATE incident_summaries SET resolved_at = 'soon'",
    "UPDATE snapshots SET state = '{not json'",
    "UPDATE snapshots SET version = char(27) || '[31m'",
]


@pytest.mark.parametrize("tampering", TAMPERING)
async def test_a_tampered_source_is_refused_in_one_inert_line_and_nothing_is_copied(
    db_path: Path, pg_url: str, tampering: str
) -> None:
    resolved = datetime(2024, 3, 1, tzinfo=UTC)
    await create_user(db_path, "alice")
    sqlite = await SqliteStore.open(db_path)
    await sqlite.append([*closed_log(1, resolved), *closed_log(2, resolved + timedelta(days=1))])
    await sqlite.close()
    with sqlite3.connect(db_path) as db:
        db.execute(tampering)

    result = await warroom("migrate", "--from", f"sqlite:{db_path}", "--to", pg_url)

    assert "Traceback" not in result.err
    assert "\x1b" not in result.err
    postgres = await open_store(pg_url)
    try:
        if result.code == 0:
            # What was copied reads back whole: the migration stands behind all of it.
            assert "copied" in result.out
            assert await postgres.incident_summaries() != []
        else:
            (line,) = result.err.strip().splitlines()
            assert line.startswith("warroom: ")
            assert await postgres.users() == []
            assert await postgres.incident_summaries() == []
    finally:
        await postgres.close()


async def test_a_user_with_a_damaged_time_is_named_and_nothing_is_copied(
    db_path: Path, pg_url: str
) -> None:
    await create_user(db_path, "alice")
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE users SET created_at = char(27) || '[2J'")

    result = await warroom("migrate", "--from", f"sqlite:{db_path}", "--to", pg_url)

    assert result.code != 0
    (line,) = result.err.strip().splitlines()
    assert "damaged created_at" in line
    assert "\x1b" not in line
    postgres = await open_store(pg_url)
    try:
        assert await postgres.users() == []
    finally:
        await postgres.close()
