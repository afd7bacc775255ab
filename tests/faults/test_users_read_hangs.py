"""A read of the user table that hangs (the SQLite store's thread stuck behind a write waiting
for another process's lock on the file; PostgreSQL holding the table behind a lock) gets every
handshake a clear 503 `unavailable` within `[limits] users_read_seconds`, not a wait until the
handshake times out unanswered; the server keeps answering meanwhile, and signs users in again
once the store is back."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
from pathlib import Path

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.core.wire import Peer
from tests.support.settings import TEST_SETTINGS
from warroom.node import start_node
from warroom.store.sqlite import SqliteStore
from warroom.users import create_user

SETTINGS = dataclasses.replace(
    TEST_SETTINGS,
    limits=TEST_SETTINGS.limits.model_copy(
        update={"users_read_seconds": 0.5, "handshake_timeout_seconds": 60.0}
    ),
)
"""The handshake would wait a minute: only the users-read bound can answer it."""


async def refused_status(url: str, token: str) -> tuple[int, str, str | None]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}):
            pass
    response = refused.value.response
    return response.status_code, response.body.decode(), response.headers.get("Retry-After")


async def test_handshake_is_answered_unavailable_while_the_user_table_cannot_be_read(
    db_path: Path,
) -> None:
    alice_token, bob_token = await create_user(db_path, "alice"), await create_user(db_path, "bob")
    async with asyncio.timeout(60), await start_node(db_path, SETTINGS) as server:
        alice = await Peer.open(server.url, alice_token)
        incident = await alice.declare()  # a commit: the next handshake asks the store
        store = server.store
        assert isinstance(store, SqliteStore)
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        on_the_thread = threading.Event()

        def wait_for_the_file_lock() -> None:
            # What a write does when another process holds the file: waits on the store's
            # thread, and every read queued there waits behind it. Sending a write over the
            # wire left it racing the handshake's read for the thread; the read sometimes won.
            on_the_thread.set()
            waiter = sqlite3.connect(db_path, timeout=120, isolation_level=None)
            try:
                waiter.execute("BEGIN IMMEDIATE")
                waiter.execute("ROLLBACK")
            finally:
                waiter.close()

        # aiosqlite's queue of work for the store's thread; it has no public, typed door to it.
        queued = store._db._execute(wait_for_the_file_lock)  # type: ignore[no-untyped-call]
        waiting = asyncio.ensure_future(queued)
        try:
            assert await asyncio.to_thread(on_the_thread.wait, 30)
            stuck = await alice.send(
                {"type": "add_entry", "incident_id": incident, "text": "while locked"}
            )
            for _ in range(2):  # each handshake is answered, not only the first
                status, body, retry_after = await refused_status(server.url, bob_token)
                assert status == 503
                assert body.startswith("unavailable:")
                assert retry_after is not None
            async with httpx.AsyncClient() as http:
                health = await http.get(f"http://127.0.0.1:{server.port}/healthz")
            assert health.status_code == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await waiting
        assert (await alice.reply_to(stuck))["type"] == "ack"
        bob = await Peer.open(server.url, bob_token)
        await bob.close()
        await alice.close()


async def test_handshake_is_answered_unavailable_while_postgresql_does_not_answer(
    pg_url: str,
) -> None:
    """PostgreSQL holding the users' version behind another session's lock: the version read
    waits, and every handshake is answered 503 instead."""
    alice_token = await create_user(pg_url, "alice")
    async with asyncio.timeout(60), await start_node(pg_url, SETTINGS) as server:
        holder = await asyncpg.connect(pg_url)
        try:
            locked = holder.transaction()
            await locked.start()
            await holder.execute("LOCK TABLE users_version IN ACCESS EXCLUSIVE MODE")
            for _ in range(2):
                status, body, retry_after = await refused_status(server.url, alice_token)
                assert status == 503
                assert body.startswith("unavailable:")
                assert retry_after is not None
            await locked.rollback()
        finally:
            await holder.close()
        alice = await Peer.open(server.url, alice_token)
        await alice.close()
