"""What only the PostgreSQL store has to get right: its URL and password handling, its schema
version, gap-free sequences under concurrent writers, and the command-id lookup."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from tests.domain.factories import Log
from tests.store.support import note_after
from tests.support.postgres import PASSWORD, PostgresServer
from warroom.domain.events import Event
from warroom.domain.triage_log import TRIAGE_LOG, TriageDismissed, TriageRecord
from warroom.store.base import StaleAppend, StoreError
from warroom.store.open import open_store
from warroom.store.postgres import PostgresStore
from warroom.store.postgres_schema import MIGRATIONS
from warroom.store.url import parse_location, parse_postgres_url


def _database_of(url: str) -> str:
    return url.split("?")[0].rsplit("/", 1)[1]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://warroom:hunter2-secret@db.example:5432/warroom",
        "postgresql://warroom@db.example/warroom?password=hunter2-secret",
    ],
)
def test_a_password_in_the_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(StoreError, match="must not hold a password") as refused:
        parse_location(url)
    assert "hunter2-secret" not in str(refused.value)
    assert "PGPASSWORD" in str(refused.value)


def test_locations_name_their_backend(tmp_path: Path) -> None:
    assert parse_location(f"sqlite:{tmp_path}/a.db") == tmp_path / "a.db"
    assert parse_location(str(tmp_path / "b.db")) == tmp_path / "b.db"
    url = parse_location("postgres://warroom@db.example:5433/warroom")
    assert url == parse_postgres_url("postgres://warroom@db.example:5433/warroom")
    with pytest.raises(StoreError, match="names no database"):
        parse_location("postgresql://warroom@db.example:5432")
    with pytest.raises(StoreError, match="not a usable PostgreSQL URL"):
        parse_location("postgresql://warroom@db.example:99999999/warroom")


async def test_the_password_comes_from_pgpassword_or_a_private_file(
    postgres_server: PostgresServer, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over the loopback port the server asks for the password (SCRAM); the socket does not.
    tcp = postgres_server.url(_database_of(pg_url), tcp=True)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    with pytest.raises(StoreError, match="cannot open database") as refused:
        await open_store(tcp)
    assert tcp in str(refused.value)

    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    store = await open_store(tcp)
    await store.close()

    monkeypatch.delenv("PGPASSWORD")
    password_file = tmp_path / "db-password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o644)
    with pytest.raises(StoreError, match="accessible by others"):
        await open_store(tcp, password_file=password_file)
    password_file.chmod(0o600)
    store = await open_store(tcp, password_file=password_file)
    await store.close()


async def test_a_wrong_password_is_reported_without_the_password(
    postgres_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    tcp = postgres_server.url(_database_of(pg_url), tcp=True)
    password_file = tmp_path / "db-password"
    password_file.write_text("not-the-password-7731")
    password_file.chmod(0o600)

    with pytest.raises(StoreError, match="password authentication failed") as refused:
        await open_store(tcp, password_file=password_file)

    assert "not-the-password-7731" not in str(refused.value)
    assert PASSWORD not in str(refused.value)


async def test_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://warroom@/warroom?host={tmp_path}&port=1"
    with pytest.raises(StoreError, match=r"cannot open database postgresql://warroom@/warroom"):
        await open_store(url)


async def test_the_schema_version_is_recorded_and_a_newer_one_is_refused(pg_url: str) -> None:
    store = await open_store(pg_url)
    await store.close()
    reopened = await open_store(pg_url)  # a second open migrates nothing
    await reopened.close()
    conn = await asyncpg.connect(pg_url)
    try:
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == list(range(1, len(MIGRATIONS) + 1))
        await conn.execute("INSERT INTO schema_migrations (version) VALUES (999)")
    finally:
        await conn.close()

    with pytest.raises(StoreError, match="schema version 999, newer than this warroom"):
        await open_store(pg_url)


async def test_a_gap_or_a_repeat_in_an_incidents_sequence_is_refused(pg_url: str) -> None:
    events = Log().events
    store = await open_store(pg_url)
    try:
        with pytest.raises(StoreError, match="incident 1 expects seq 1 next, not 2"):
            await store.append(events[1:])
        await store.append(events[:2])
        # A repeat is what a node with an out-of-date copy would write: it catches up and retries.
        with pytest.raises(StaleAppend, match=r"incidents \[1\] changed on another node"):
            await store.append(events[1:])
        await store.append(events[2:])
        assert await store.load_events() == events
    finally:
        await store.close()


async def test_racing_writers_on_two_connections_keep_the_sequence_gap_free(pg_url: str) -> None:
    """Two stores (as two nodes would) each try to append the next event of one incident:
    exactly one of each pair commits, the other is refused, and nothing has a gap."""
    log = Log()
    first = await open_store(pg_url)
    second = await open_store(pg_url)
    try:
        await first.append(log.events)
        for round_ in range(10):
            seq = log.events[-1].seq + 1
            a, b = (
                note_after(log.events[-1], seq, f"a{round_}"),
                note_after(log.events[-1], seq, f"b{round_}"),
            )
            results = await asyncio.gather(
                first.append([a]), second.append([b]), return_exceptions=True
            )
            assert sum(r is None for r in results) == 1, results
            assert all(r is None or isinstance(r, StaleAppend) for r in results)
            log.events.append(a if results[0] is None else b)
        stored = await second.load_events()
        assert [e.seq for e in stored] == list(range(1, len(log.events) + 1))
        assert stored == log.events
    finally:
        await first.close()
        await second.close()


async def test_committed_command_ids_are_found_with_their_stream_and_seq(pg_url: str) -> None:
    log = Log()
    log.events[2] = log.events[2].model_copy(update={"command_id": "assign-tl"})
    store = await open_store(pg_url)
    assert isinstance(store, PostgresStore)
    try:
        await store.append(log.events)
        record = TriageRecord(
            seq=1,
            at=log.events[0].at,
            actor="oncall",
            command_id="dismiss-1",
            body=TriageDismissed(triage_id=7, reason="noise"),
        )
        await store.append_triage([record], [])

        found = await store.find_commands(
            [("ic", "assign-tl"), ("oncall", "dismiss-1"), ("ic", "never-sent")]
        )

        assert found == {("ic", "assign-tl"): (1, 3), ("oncall", "dismiss-1"): (TRIAGE_LOG, 1)}
        tail = await store.events_json(1, after=2)
        assert [Event.model_validate_json(t) for t in tail] == log.events[2:]
    finally:
        await store.close()
