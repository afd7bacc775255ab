"""Triage items on a PostgreSQL database shared by several nodes: every write of an item gets a
change number a node reads after, a decision stored by one node is never undone by another's
copy, and a dismissal or declaration of an item another node decided first writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from warroom.domain.events import Event, IncidentDeclared
from warroom.domain.triage import Detection, TriageItem, TriageStatus
from warroom.domain.triage_log import TriageDismissed, TriageRecord, apply_triage_record
from warroom.store.base import StaleAppend, TriageDecided
from warroom.store.postgres import PostgresStore
from warroom.store.url import parse_postgres_url

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
async def two_stores(pg_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two nodes' stores on one database."""
    url = parse_postgres_url(pg_url)
    a, b = await PostgresStore.open(url), await PostgresStore.open(url)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def _item(key: str) -> TriageItem:
    return TriageItem(
        id=1,
        group_key=f"alert:{key}",
        title="Disk full",
        labels={"alertname": "DiskFull"},
        starts_at=AT,
        opened_at=AT,
        proposed_severity=2,
    )


def _dismissal(item: TriageItem, command_id: str) -> tuple[TriageRecord, TriageItem]:
    record = TriageRecord(
        seq=1,
        at=AT,
        actor="bob",
        command_id=command_id,
        body=TriageDismissed(triage_id=item.id, reason="noise"),
    )
    return record, apply_triage_record(item, record)


def _declaration(item: TriageItem, incident_id: int, command_id: str) -> Event:
    return Event(
        incident_id=incident_id,
        seq=1,
        at=AT,
        actor="alice",
        command_id=command_id,
        body=IncidentDeclared(
            title=item.title,
            severity=2,
            channel="#inc",
            checklist=[],
            detection=Detection(
                triage_id=item.id,
                alert_name="DiskFull",
                alert_started_at=AT,
                triage_opened_at=AT,
            ),
        ),
    )


async def test_a_node_reads_only_the_items_written_since_its_change_number(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two_stores
    first = await a.open_triage(_item("one"), 0)
    mark, read = await b.triage_changed(0)
    assert read == [first]
    assert await b.triage_changed(mark) == (mark, [])
    second = await a.open_triage(_item("two"), 0)
    changed = first.model_copy(update={"note": "an alert changed"})
    await a.save_triage(changed)
    later, read = await b.triage_changed(mark)
    assert later > mark
    assert read == [changed, second]


async def test_an_open_copy_saved_later_keeps_the_decision_another_node_stored(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two_stores
    item = await a.open_triage(_item("one"), 0)
    record, dismissed = _dismissal(item, "dismiss-1")
    await b.append_triage_numbered([record], [dismissed])
    # Node A's copy, still open, with an alert's news: the alert's news is kept, the decision too.
    await a.save_triage(item.model_copy(update={"note": "fired again"}))
    (stored,) = await a.load_triage()
    assert stored.status is TriageStatus.DISMISSED
    assert stored.decided_by == "bob"
    assert stored.note == "fired again"


async def test_a_dismissal_of_an_item_decided_first_elsewhere_writes_nothing(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two_stores
    item = await a.open_triage(_item("one"), 0)
    first, dismissed = _dismissal(item, "dismiss-on-a")
    await a.append_triage_numbered([first], [dismissed])
    late, late_item = _dismissal(item, "dismiss-on-b")
    with pytest.raises(TriageDecided) as refused:
        await b.append_triage_numbered([late], [late_item])
    assert [i.status for i in refused.value.items] == [TriageStatus.DISMISSED]
    assert [r.command_id for r in await a.load_triage_log()] == ["dismiss-on-a"]


async def test_a_declaration_marks_its_item_declared_and_a_second_one_is_stale(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two_stores
    item = await a.open_triage(_item("one"), 0)
    await a.append([_declaration(item, 1, "declare-on-a")])
    (stored,) = await b.load_triage()
    assert stored.status is TriageStatus.DECLARED
    assert stored.incident_id == 1
    assert stored.decided_by == "alice"
    # Node B, deciding from its copy of the item still open, under another incident number.
    with pytest.raises(StaleAppend):
        await b.append([_declaration(item, 2, "declare-on-b")])
    assert [e.incident_id for e in await a.load_events()] == [1]


async def test_items_written_before_change_numbers_are_read_at_load(
    two_stores: tuple[PostgresStore, PostgresStore], pg_url: str
) -> None:
    a, b = two_stores
    item = await a.open_triage(_item("one"), 0)
    # As a database migrated from version 2 holds it: no change number yet.
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("ALTER TABLE triage_items DISABLE TRIGGER triage_changed")
        await conn.execute("UPDATE triage_items SET changed = 0")
        await conn.execute("ALTER TABLE triage_items ENABLE TRIGGER triage_changed")
    finally:
        await conn.close()
    mark, read = await b.triage_changed(-1)
    assert read == [item]
    assert mark == 0
    assert (await b.triage_changed(mark))[1] == []
