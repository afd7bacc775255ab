"""What every `EventStore` promises, checked on SQLite and PostgreSQL alike: events, triage items
and the triage log come back exactly as written, and a command id is committed once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.domain.factories import Log
from warroom.domain.events import EntryAdded
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import TriageItem, TriageStatus
from warroom.domain.triage_log import TriageDismissed, TriageRecord
from warroom.store.base import StoreError, User
from warroom.store.open import Store, open_store

AT = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    yield opened
    await opened.close()


def _triage_item(item_id: int) -> TriageItem:
    return TriageItem(
        id=item_id,
        group_key=f"warroom/{{alertname=HighErrorRate{item_id}}}",
        title="High error rate",
        labels={"alertname": "HighErrorRate", "service": "payments-api"},
        starts_at=AT,
        opened_at=AT,
        proposed_severity=2,
    )


async def test_events_come_back_as_the_same_instants_in_utc_with_their_commands(
    store: Store,
) -> None:
    log = Log()
    # An offset other than UTC comes back as the same instant in UTC (every stored time is UTC);
    # a time at the edge of the representable range, with no UTC value, comes back as written.
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="from Kolkata"))
    log.events[-1] = log.events[-1].model_copy(
        update={"at": AT.astimezone(timezone(timedelta(hours=5, minutes=30)))}
    )
    log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text="odd clock"))
    log.events[-1] = log.events[-1].model_copy(
        update={"at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))}
    )
    log.events[1] = log.events[1].model_copy(update={"command_id": "cmd-assign-cl"})

    await store.append(log.events)

    loaded = await store.load_events()
    assert [e.at for e in loaded] == [e.at for e in log.events]  # the same instants
    assert loaded[4].model_dump(mode="json")["at"] == "2026-11-29T14:00:00Z"
    assert loaded[5].at == log.events[5].at
    assert loaded[5].at.utcoffset() == timedelta(hours=14)
    assert [e.model_dump(exclude={"at"}) for e in loaded] == [
        e.model_dump(exclude={"at"}) for e in log.events
    ]


async def test_a_command_id_is_committed_once_per_actor(store: Store) -> None:
    log = Log()
    log.events[1] = log.events[1].model_copy(update={"command_id": "same"})
    log.events[2] = log.events[2].model_copy(update={"command_id": "same"})

    with pytest.raises(StoreError, match="could not write to"):
        await store.append(log.events)

    assert await store.load_events() == []


async def test_triage_items_are_saved_replaced_and_loaded_in_id_order(store: Store) -> None:
    second, first = _triage_item(2), _triage_item(1)
    await store.save_triage(second)
    await store.save_triage(first)
    decided = first.model_copy(
        update={"status": TriageStatus.DISMISSED, "decided_by": "oncall", "decided_at": AT}
    )
    await store.save_triage(decided)

    assert await store.load_triage() == [decided, second]


async def test_the_triage_log_and_its_items_commit_together_or_not_at_all(store: Store) -> None:
    item = _triage_item(1)
    record = TriageRecord(
        seq=1,
        at=AT,
        actor="oncall",
        command_id="dismiss-1",
        body=TriageDismissed(triage_id=1, reason="load test"),
    )
    await store.append_triage([record], [item])
    changed = item.model_copy(update={"note": "changed by a failed write"})

    # The same (actor, command id) again: the whole write fails, the item is not changed.
    with pytest.raises(StoreError, match="could not write the triage log to"):
        await store.append_triage([record.model_copy(update={"seq": 2})], [changed])

    assert await store.load_triage_log() == [record]
    assert await store.load_triage() == [item]


async def test_the_users_version_changes_when_another_process_changes_the_users(
    store_url: str,
) -> None:
    server_side = await open_store(store_url)
    admin = await open_store(store_url)  # as `warroom user add` would, on its own connection
    try:
        before = await server_side.users_version()
        assert await server_side.users_version() == before  # nothing changed: same number

        await admin.add_user(User(name="alice", token_hash="hash-of-alice", created_at=AT))
        added = await server_side.users_version()
        await admin.remove_user("alice")

        assert added != before
        assert await server_side.users_version() != added
    finally:
        await admin.close()
        await server_side.close()


async def test_the_data_version_read_at_once_changes_with_any_commit_or_is_unknown(
    store_url: str,
) -> None:
    """What a handshake relies on to skip asking for the users' version: while the number read
    at once stays the same, nothing was committed, by this connection or another process; a
    store that cannot tell (PostgreSQL) says None, every time."""
    server_side = await open_store(store_url)
    admin = await open_store(store_url)
    try:
        before = server_side.data_version_now()
        if before is None:
            await admin.add_user(User(name="alice", token_hash="hash-of-alice", created_at=AT))
            assert server_side.data_version_now() is None
            return
        assert server_side.data_version_now() == before

        await admin.add_user(User(name="alice", token_hash="hash-of-alice", created_at=AT))
        by_another = server_side.data_version_now()
        assert by_another != before
        await server_side.save_triage(_triage_item(1))  # a commit of its own counts too
        by_itself = server_side.data_version_now()
        assert by_itself not in (None, by_another)
    finally:
        await admin.close()
        await server_side.close()
