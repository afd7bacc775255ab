"""A large SQLite file opens without reading all of its history first: the tables start-up reads
are checked before use, the whole file in the background, and damage found there is reported."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from bench import seed

from warroom.store import sqlite_check
from warroom.store.base import StoreError
from warroom.store.sqlite import SqliteStore

PAGE = 4096


async def history_file(path: Path) -> None:
    store = await SqliteStore.open(path)
    try:
        await store.append(seed.incident_events(1, 300, "alice"))
    finally:
        await store.close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def scramble_root_page(path: Path, table: str) -> None:
    with sqlite3.connect(path) as connection:
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    data = bytearray(path.read_bytes())
    start = (int(root) - 1) * PAGE
    data[start : start + PAGE] = bytes(range(256)) * (PAGE // 256)
    path.write_bytes(bytes(data))


async def test_a_large_file_opens_and_its_damaged_history_is_reported_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "large.db"
    await history_file(db)
    scramble_root_page(db, "events")
    monkeypatch.setattr(sqlite_check, "CHECK_AT_OPEN_BYTES", 0)  # every file counts as large

    with caplog.at_level(logging.ERROR, logger=sqlite_check.__name__):
        store = await SqliteStore.open(db)  # the summaries are sound: it opens
        check = store.background_check
        assert check is not None
        assert check.done.wait(timeout=60)
        await store.close()
    assert check.problem is not None
    assert any(str(db) in r.getMessage() and "backup" in r.getMessage() for r in caplog.records)


async def test_a_large_file_with_damaged_summaries_is_refused_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "large.db"
    await history_file(db)
    scramble_root_page(db, "incident_summaries")
    monkeypatch.setattr(sqlite_check, "CHECK_AT_OPEN_BYTES", 0)
    with pytest.raises(StoreError) as refused:
        await SqliteStore.open(db)
    assert str(db) in str(refused.value)


async def test_a_small_file_is_checked_whole_before_use(tmp_path: Path) -> None:
    db = tmp_path / "small.db"
    await history_file(db)
    scramble_root_page(db, "events")
    with pytest.raises(StoreError) as refused:
        await SqliteStore.open(db)
    assert str(db) in str(refused.value)  # the same damage a large file only logs
