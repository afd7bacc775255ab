"""`warroom migrate --from sqlite:PATH --to postgresql://…`: a single-machine war room moves into
PostgreSQL with every sequence, user, triage item and triage log record intact, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.cli import warroom
from tests.support.history import closed_log
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.demo_data import waiting_alert
from warroom.domain.commands import AddEntry, DeclareIncident, DismissTriage
from warroom.domain.events import Event
from warroom.domain.triage_log import TRIAGE_LOG
from warroom.node import start_node
from warroom.store.open import open_store
from warroom.store.sqlite import SqliteStore
from warroom.users import create_user


async def test_a_war_room_moves_to_postgresql_whole_and_keeps_working(
    db_path: Path, pg_url: str
) -> None:
    token = await create_user(db_path, "alice")
    await create_user(db_path, "bob")
    async with await start_node(db_path, TEST_SETTINGS) as server:
        await server.integrations.triage.reconcile([waiting_alert(datetime.now(UTC))])
        (item_id,) = server.integrations.triage.items
        client = WarroomClient(server.url, token)
        await client.start()
        first = await client.execute(DeclareIncident(id=new_id(), title="Checkout", severity=2))
        second = await client.execute(DeclareIncident(id=new_id(), title="Login", severity=3))
        entry = AddEntry(id=new_id(), incident_id=second.incident_id, text="logins fail")
        entry_ack = await client.execute(entry)
        dismissal = DismissTriage(id=new_id(), triage_id=item_id, reason="staging load test")
        await client.execute(dismissal)
        await client.close()
        states = {i: server.hub.incident_state(i) for i in (first.incident_id, entry.incident_id)}
    sqlite = await SqliteStore.open(db_path)
    before = (
        await sqlite.load_events(),
        await sqlite.users(),
        await sqlite.load_triage(),
        await sqlite.load_triage_log(),
    )
    await sqlite.close()

    result = await warroom("migrate", "--from", f"sqlite:{db_path}", "--to", pg_url)

    assert result.code == 0, result.err
    assert "copied 2 incidents" in result.out
    assert "2 users, 1 triage items and 1 triage log records" in result.out
    postgres = await open_store(pg_url)
    after = (
        await postgres.load_events(),
        await postgres.users(),
        await postgres.load_triage(),
        await postgres.load_triage_log(),
    )
    await postgres.close()
    assert after == before
    # The server on PostgreSQL: same incidents, same tokens, retries answered as before.
    async with await start_node(pg_url, TEST_SETTINGS) as moved:
        assert {i: moved.hub.incident_state(i) for i in states} == states
        client = WarroomClient(moved.url, token)
        await client.start()
        try:
            retried_entry = await client.execute(entry)
            retried_dismissal = await client.execute(dismissal)
            assert (retried_entry.seq, retried_entry.duplicate) == (entry_ack.seq, True)
            assert (retried_dismissal.incident_id, retried_dismissal.seq) == (TRIAGE_LOG, 1)
            assert retried_dismissal.duplicate
        finally:
            await client.close()


async def test_migrating_into_a_database_that_holds_a_war_room_is_refused_and_changes_nothing(
    db_path: Path, pg_url: str
) -> None:
    await create_user(db_path, "alice")
    await create_user(pg_url, "carol")

    result = await warroom("migrate", "--from", f"sqlite:{db_path}", "--to", pg_url)

    assert result.code != 0
    assert "already holds a war room" in result.err
    postgres = await open_store(pg_url)
    assert [u.name for u in await postgres.users()] == ["carol"]
    await postgres.close()


async def test_migrate_names_a_missing_source_and_the_wrong_kinds_of_location(
    tmp_path: Path, pg_url: str
) -> None:
    missing = await warroom("migrate", "--from", f"sqlite:{tmp_path}/none.db", "--to", pg_url)
    backwards = await warroom("migrate", "--from", pg_url, "--to", f"sqlite:{tmp_path}/x.db")

    assert missing.code != 0
    assert f"no SQLite database at {tmp_path}/none.db" in missing.err
    assert backwards.code != 0
    assert "--from must be a SQLite file" in backwards.err
    assert not (tmp_path / "none.db").exists()


async def test_user_add_and_revoke_work_against_postgresql(pg_url: str) -> None:
    added = await warroom("user", "add", "dana", "--db", pg_url)
    again = await warroom("user", "add", "dana", "--db", pg_url)
    revoked = await warroom("user", "revoke", "dana", "--db", pg_url)

    assert added.code == 0, added.err
    assert again.code != 0
    assert "a user named dana already exists" in again.err
    assert revoked.code == 0, revoked.err
    postgres = await open_store(pg_url)
    assert await postgres.users() == []
    await postgres.close()


async def test_a_password_on_the_command_line_is_refused_before_anything_is_opened() -> None:
    result = await warroom(
        "user", "add", "erin", "--db", "postgresql://warroom:s3cret-pw@127.0.0.1:1/warroom"
    )

    assert result.code != 0
    assert "must not hold a password" in result.err
    assert "s3cret-pw" not in result.err + result.out


async def test_archived_incidents_stay_archived_in_the_target(db_path: Path, pg_url: str) -> None:
    resolved = datetime(2024, 3, 1, tzinfo=UTC)
    old, recent = closed_log(1, resolved), closed_log(2, resolved + timedelta(days=400))
    sqlite = await SqliteStore.open(db_path)
    await sqlite.append([*old, *recent])
    assert await sqlite.archive(resolved + timedelta(days=1)) == [1]
    await sqlite.close()

    result = await warroom("migrate", "--from", f"sqlite:{db_path}", "--to", pg_url)

    assert result.code == 0, result.err
    postgres = await open_store(pg_url)
    try:
        # Only the live incident is in the live log; the archived one reads from the archive.
        assert await postgres.load_events() == recent
        archived = [Event.model_validate_json(line) for line in await postgres.events_json(1)]
        assert archived == old
        # Archiving everything old now moves only what was live: #1 was archived already.
        assert await postgres.archive(datetime(2100, 1, 1, tzinfo=UTC)) == [2]
    finally:
        await postgres.close()


async def test_a_damaged_source_is_refused_in_one_line_and_the_target_stays_empty(
    db_path: Path, pg_url: str
) -> None:
    await create_user(db_path, "alice")
    damaged = bytearray(db_path.read_bytes())
    # Flip bytes past the header page: the file still opens as SQLite, its pages do not read.
    for offset in range(4096, len(damaged), 97):
        damaged[offset] ^= 0xFF
    db_path.write_bytes(bytes(damaged))

    result = await warroom("migrate", "--from", f"sqlite:{db_path}", "--to", pg_url)

    assert result.code != 0
    assert "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    assert "is not a usable warroom database" in line
    postgres = await open_store(pg_url)
    assert await postgres.users() == []
    assert await postgres.incident_summaries() == []
    await postgres.close()
