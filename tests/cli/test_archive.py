"""`warroom archive --before DATE`: closed incidents move to the archive and stay exportable."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cli import warroom
from tests.support.history import closed_log
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient
from warroom.domain.projection import replay
from warroom.node import start_node
from warroom.store.sqlite import SqliteStore
from warroom.users import create_user


def live_rows(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM events").fetchone()[0])


async def test_archive_moves_closed_incidents_and_they_stay_readable(db_path: Path) -> None:
    old = closed_log(1, datetime(2023, 6, 1, tzinfo=UTC))
    recent = closed_log(2, datetime(2025, 6, 1, tzinfo=UTC))
    store = await SqliteStore.open(db_path)
    try:
        await store.append([*old, *recent])
    finally:
        await store.close()
    token = await create_user(db_path, "alice")

    result = await warroom("archive", "--before", "2024-01-01", "--db", str(db_path))
    assert result.code == 0, result.err
    assert "archived 1 closed incidents (#1)" in result.out
    assert live_rows(db_path) == len(recent)

    again = await warroom("archive", "--before", "2024-01-01", "--db", str(db_path))
    assert again.code == 0
    assert "no closed incident resolved before 2024-01-01 00:00 UTC" in again.out

    async with await start_node(db_path, TEST_SETTINGS) as node:
        alice = WarroomClient(node.url, token)
        await alice.start()
        assert [s.id for s in await alice.list_incidents()] == [1, 2]
        log = await alice.read_log(1)
        assert log == old
        assert (await alice.follow(1)).model_dump() == replay(old).model_dump()
        await alice.close()


async def test_archive_refuses_a_date_it_cannot_read_and_changes_nothing(db_path: Path) -> None:
    store = await SqliteStore.open(db_path)
    try:
        await store.append(closed_log(1, datetime(2023, 6, 1, tzinfo=UTC)))
    finally:
        await store.close()
    rows = live_rows(db_path)
    for bad in ("yesterday", "2024-13-01", ""):
        result = await warroom("archive", "--before", bad, "--db", str(db_path))
        assert result.code == 2
        assert "is not a date: use YYYY-MM-DD or an ISO 8601 time" in result.err
    assert live_rows(db_path) == rows


async def _two_closed_incidents(db_path: Path) -> None:
    store = await SqliteStore.open(db_path)
    try:
        await store.append(
            [
                *closed_log(1, datetime(2023, 6, 1, tzinfo=UTC)),
                *closed_log(2, datetime(2025, 6, 1, tzinfo=UTC)),
            ]
        )
    finally:
        await store.close()


@pytest.mark.parametrize(
    "before", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "3000-01-01"]
)
async def test_archive_before_a_date_out_of_range_or_far_ahead_answers_in_one_line(
    db_path: Path, before: str
) -> None:
    await _two_closed_incidents(db_path)
    result = await warroom("archive", "--before", before, "--db", str(db_path))
    assert "Traceback" not in result.err
    assert len((result.out + result.err).strip().splitlines()) == 1
    if before.startswith("0001"):
        assert result.code == 0
        assert live_rows(db_path) > 0  # nothing was resolved before the calendar began


@pytest.mark.parametrize("resolved_at", ["soon", "2024-01-01T00:00:00", "\x1b[2J"])
async def test_archive_over_a_tampered_resolution_time_says_so_and_moves_nothing(
    db_path: Path, resolved_at: str
) -> None:
    await _two_closed_incidents(db_path)
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE incident_summaries SET resolved_at = ? WHERE id = 1", (resolved_at,))
    rows = live_rows(db_path)

    result = await warroom("archive", "--before", "2100-01-01", "--db", str(db_path))

    assert "Traceback" not in result.err
    assert "\x1b" not in result.err
    if result.code == 0:  # a naive time is read as UTC, as the server records time
        assert "archived 2 closed incidents" in result.out
    else:
        (line,) = result.err.strip().splitlines()
        assert "damaged resolved_at" in line
        assert live_rows(db_path) == rows
