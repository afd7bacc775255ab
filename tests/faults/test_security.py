"""Security: hashed tokens compared in constant time, guessing slowed down, abuse contained to
the abusing connection, hostile text stored as given and escaped in every export, and files that
only their owner can read."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import itertools
import json
import os
import re
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.core.wire import Peer
from tests.faults.support import handshake_request
from tests.support.client_sync import seq_reached
from warroom.client.outbox import Outbox
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import AddEntry
from warroom.domain.events import Event
from warroom.domain.limits import MAX_ENTRY_TEXT, MAX_FRAME_BYTES
from warroom.domain.projection import replay
from warroom.export.escape import BIDI_CONTROLS
from warroom.export.html import render_html
from warroom.export.json_export import export_json
from warroom.export.markdown import render_markdown
from warroom.local import ensure_local_token
from warroom.node import WarroomNode, start_node
from warroom.paths import local_token_file
from warroom.protocol.frames import SERVER_FRAME_ADAPTER
from warroom.server.app import ServerSettings
from warroom.server.auth import Authenticator
from warroom.server.sign_in_throttle import SignInThrottle
from warroom.store.base import User
from warroom.store.sqlite import SqliteStore
from warroom.users import create_user, revoke_user

AddUser = Callable[[str], Awaitable[str]]


# --- tokens -------------------------------------------------------------------------------------


async def test_tokens_are_stored_only_as_hashes(db_path: Path) -> None:
    tokens = [await create_user(db_path, name) for name in ("alice", "bob", "carol")]
    connection = sqlite3.connect(db_path)
    rows = connection.execute("SELECT name, token_hash, created_at FROM users").fetchall()
    connection.close()
    stored = {cell for row in rows for cell in row}
    for token in tokens:
        assert token not in stored
        assert not any(token in str(cell) for cell in stored)
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(f"{db_path.name}*"))
    for token in tokens:
        assert token.encode() not in raw, "a token appears in plaintext in the database files"


async def test_token_lookup_compares_every_stored_hash_with_compare_digest(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = [await create_user(db_path, name) for name in ("alice", "bob", "carol", "dave")]
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    await auth.refresh()
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    # auth.py calls `hmac.compare_digest`; count the calls it makes.
    monkeypatch.setattr(hmac, "compare_digest", counting)
    try:
        for token in [tokens[0], tokens[3], "wr_guess", tokens[2][:-1] + "x"]:
            calls.clear()
            await auth.identify(token, "10.0.0.1")
            # Every stored hash is compared, whether the token is found first, last or never.
            assert len(calls) >= len(tokens), token
            assert {stored for _, stored in calls[: len(tokens)]} == {
                hashlib.sha256(t.encode()).hexdigest() for t in tokens
            }
        assert await auth.identify(tokens[1], "10.0.0.1") == "bob"
    finally:
        await store.close()


class CountedCalls:
    """Counts the calls of one of a store's async methods, then delegates to it."""

    def __init__(self, store: object, method: str) -> None:
        self.calls = 0
        self._method: Callable[[], Awaitable[Any]] = getattr(store, method)
        setattr(store, method, self)

    async def __call__(self) -> Any:
        self.calls += 1
        return await self._method()


async def test_handshakes_read_the_user_table_only_when_it_changed(db_path: Path) -> None:
    """Reading the table at every handshake was most of warroom's own cost of 200 consoles
    joining; a probe of its version is enough, and adding or revoking still counts at once."""
    alice = await create_user(db_path, "alice")
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    reads = CountedCalls(store, "users")
    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"
        assert reads.calls == 1  # the first handshake reads it
        for _ in range(20):
            assert await auth.identify(alice, "10.0.0.1") == "alice"
        assert reads.calls == 1, "a handshake read an unchanged user table"

        await _another_process_adds_bob_and_revokes_alice(auth, db_path, alice)
    finally:
        await store.close()


async def _another_process_adds_bob_and_revokes_alice(
    auth: Authenticator, db_path: Path, alice: str
) -> None:
    """`warroom user add bob`, then `warroom user revoke alice`, each seen at the very next
    handshake."""
    bob = await create_user(db_path, "bob")
    assert await auth.identify(bob, "10.0.0.2") == "bob"
    await revoke_user(db_path, "alice")
    assert await auth.identify(alice, "10.0.0.1") is None
    assert await auth.identify(bob, "10.0.0.2") == "bob"


async def test_a_known_token_on_an_unchanged_table_is_answered_without_a_turn_of_the_loop(
    db_path: Path,
) -> None:
    """A console's connect waits for its token's check: with nothing committed since the table
    was read, a known token is answered in the same turn of the event loop (sync21). A wrong one
    still reads the table again, and a throttled console still waits first."""
    alice = await create_user(db_path, "alice")
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"  # the first reads the table
        check = auth.identify(alice, "10.0.0.1")
        with pytest.raises(StopIteration) as answered:
            check.send(None)  # runs to its end without suspending once
        assert answered.value.value == "alice"
        reads = CountedCalls(store, "users")
        assert await auth.identify("wr_guess", "10.0.0.2") is None
        assert reads.calls == 1
        guessed = auth.identify(alice, "10.0.0.2")  # the guesser's address now waits
        with pytest.raises(asyncio.TimeoutError):
            async with asyncio.timeout(0.01):
                await guessed
    finally:
        await store.close()


def _without_data_version_now(store: SqliteStore) -> SqliteStore:
    """The store as one that cannot tell at once whether anything was committed (as
    PostgreSQL): every handshake asks it for the users' version."""
    store.data_version_now = lambda: None  # type: ignore[method-assign]
    return store


async def test_handshakes_on_an_unchanged_file_do_not_ask_the_stores_thread(db_path: Path) -> None:
    """Asking the store for the users' version was a round trip to aiosqlite's thread per
    handshake (0.25 ms quiet, over 1 ms busy: a tenth to a third of a console's connect); with
    nothing committed since the table was last made sure of, a handshake asks nothing. A write
    of the server's own makes the next handshake ask again, and changes from another process
    (`warroom user add`, `warroom user revoke`) still count at the very next handshake."""
    alice = await create_user(db_path, "alice")
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    versions = CountedCalls(store, "users_version")
    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"
        assert versions.calls == 1  # the first handshake asks
        for _ in range(20):
            assert await auth.identify(alice, "10.0.0.1") == "alice"
        assert versions.calls == 1, "a handshake asked the store's thread about an unchanged file"

        # A write through the server's own connection: the number changes all the same.
        await store.add_user(User(name="carol", token_hash="0" * 64, created_at=datetime.now(UTC)))
        assert await auth.identify(alice, "10.0.0.1") == "alice"
        assert versions.calls == 2
        assert await auth.identify(alice, "10.0.0.1") == "alice"
        assert versions.calls == 2

        await _another_process_adds_bob_and_revokes_alice(auth, db_path, alice)
    finally:
        await store.close()


async def test_a_file_that_cannot_be_probed_now_is_asked_through_the_store(db_path: Path) -> None:
    """A probe that cannot read the file (locked, closed) knows nothing: the handshake asks the
    store as before, and a revocation made meanwhile is still refused."""
    alice = await create_user(db_path, "alice")
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    versions = CountedCalls(store, "users_version")
    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"
        store._probe.close()  # type: ignore[union-attr]
        assert store.data_version_now() is None
        await revoke_user(db_path, "alice")
        assert await auth.identify(alice, "10.0.0.1") is None
        assert versions.calls == 2
    finally:
        await store.close()


async def test_a_store_opened_by_a_relative_path_probes_its_file_too(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warroom serve --db warroom.db`: the side connection needs a file URI, which a relative
    path cannot be written as; the store opens (and probes) all the same."""
    alice = await create_user(db_path, "alice")
    monkeypatch.chdir(db_path.parent)
    store = await SqliteStore.open(Path(db_path.name))
    try:
        assert store.data_version_now() is not None
        assert await Authenticator(store).identify(alice, "10.0.0.1") == "alice"
    finally:
        await store.close()


async def test_handshakes_arriving_together_share_one_read_of_the_users_version(
    db_path: Path,
) -> None:
    """One version read per handshake was a round trip to the store's thread each, most of what
    was left of warroom's own cost of 200 consoles joining."""
    alice = await create_user(db_path, "alice")
    store = _without_data_version_now(await SqliteStore.open(db_path))
    auth = Authenticator(store)
    reads = CountedCalls(store, "users_version")
    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"
        reads.calls = 0
        names = await asyncio.gather(*(auth.identify(alice, "10.0.0.1") for _ in range(50)))
        assert names == ["alice"] * 50
        assert reads.calls == 1
    finally:
        await store.close()


async def test_a_handshake_after_a_revocation_is_refused_while_an_earlier_version_read_runs(
    db_path: Path,
) -> None:
    """A handshake never shares a version read that began before it asked: that read may have
    seen the table from before `warroom user revoke`."""
    alice = await create_user(db_path, "alice")
    store = _without_data_version_now(await SqliteStore.open(db_path))
    auth = Authenticator(store)
    read_version = store.users_version
    held = asyncio.Event()
    release = asyncio.Event()

    async def held_once_read() -> int:
        version = await read_version()
        if not held.is_set():
            held.set()  # this read has seen the table before the revocation
            await release.wait()
        return version

    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"  # the table is read
        store.users_version = held_once_read  # type: ignore[method-assign]
        earlier = asyncio.create_task(auth.identify(alice, "10.0.0.1"))
        await held.wait()
        await revoke_user(db_path, "alice")
        later = asyncio.create_task(auth.identify(alice, "10.0.0.1"))
        # Turns of the loop, not time: `later` passes its (zero) throttle wait and asks for the
        # version while the earlier read still runs.
        for _ in range(3):
            await asyncio.sleep(0)
        release.set()
        assert await earlier == "alice"  # it asked before the revocation
        assert await later is None
    finally:
        await store.close()


async def test_a_handshake_after_a_revocation_is_refused_while_an_earlier_user_table_read_runs(
    db_path: Path,
) -> None:
    """A handshake that saw the table's version change never takes the table from a read that
    began before it asked: that read may hold the revoked user, and the version it was read for
    would then be taken as read, letting the user in until the table changed again."""
    alice = await create_user(db_path, "alice")
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    read_users = store.users
    held = asyncio.Event()
    release = asyncio.Event()
    version_read = asyncio.Event()
    read_version = store.users_version

    async def held_once_read() -> list[Any]:
        users = await read_users()
        if not held.is_set():
            held.set()  # this read has seen the table before the revocation
            await release.wait()
        return users

    async def told_version_read() -> int:
        version = await read_version()
        version_read.set()
        return version

    try:
        assert await auth.identify(alice, "10.0.0.1") == "alice"  # the table is read
        store.users = held_once_read  # type: ignore[method-assign]
        # An unknown token re-reads the table: that read is held once it has read it.
        earlier = asyncio.create_task(auth.identify("wr_unknown", "10.0.0.2"))
        await held.wait()
        await revoke_user(db_path, "alice")
        store.users_version = told_version_read  # type: ignore[method-assign]
        later = asyncio.create_task(auth.identify(alice, "10.0.0.1"))
        await version_read.wait()  # `later` saw the version change...
        for _ in range(5):  # ...and (turns of the loop, not time) asks for the table
            await asyncio.sleep(0)
        release.set()
        assert await earlier is None
        assert await later is None
        assert await auth.identify(alice, "10.0.0.1") is None
    finally:
        await store.close()


async def test_repeated_bad_tokens_wait_longer_each_time(
    db_path: Path, recorded_waits: list[float]
) -> None:
    good = await create_user(db_path, "alice")
    store = await SqliteStore.open(db_path)
    now = [1000.0]
    auth = Authenticator(store, monotonic=lambda: now[0])
    try:
        for n in range(10):
            assert await auth.identify(f"wr_guess{n}", "203.0.113.9") is None
            now[0] += 0.01
        waits = list(recorded_waits)
        assert waits[0] == 0.0, "a single typo costs nothing"
        assert all(b >= a for a, b in itertools.pairwise(waits)), waits
        assert waits[5] > waits[1] > waits[0], waits
        assert max(waits) <= 2.0, "the wait is capped"
        assert waits[-1] == 2.0, waits

        # Someone else is not slowed down by the guesser.
        recorded_waits.clear()
        assert await auth.identify("wr_typo", "198.51.100.7") is None
        assert recorded_waits == [0.0]
        # No token at all counts as a failure too.
        recorded_waits.clear()
        assert await auth.identify(None, "203.0.113.9") is None
        assert recorded_waits == [2.0]
        # The right token waits as long as a wrong one from there, so the wait tells nothing,
        # and gets in; from an address nobody guesses from it never waits (answered at once,
        # without even a wait of 0: sync21).
        recorded_waits.clear()
        assert await auth.identify(good, "203.0.113.9") == "alice"
        assert await auth.identify(good, "192.0.2.1") == "alice"
        assert recorded_waits == [2.0]
        # A quiet spell of two and a half minutes forgives.
        now[0] += 150
        recorded_waits.clear()
        assert await auth.identify("wr_again", "203.0.113.9") is None
        assert recorded_waits == [0.0]
    finally:
        await store.close()


async def test_thousands_of_failures_from_one_address_keep_a_capped_wait(
    db_path: Path, recorded_waits: list[float]
) -> None:
    # 0.05 * 2**count overflowed a float after ~1,000 failures: every later handshake got a 500.
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    try:
        for n in range(2_000):
            assert await auth.identify(f"wr_guess{n}", "203.0.113.9") is None
        assert len(recorded_waits) == 2_000
        assert max(recorded_waits) == 2.0
        assert recorded_waits[-1] == 2.0
        assert auth.throttle.tracked == 2, "one console of one address: two counts, no more"
    finally:
        await store.close()


async def test_the_failure_table_stays_bounded_when_many_addresses_guess(
    db_path: Path, recorded_waits: list[float]
) -> None:
    store = await SqliteStore.open(db_path)
    auth = Authenticator(store)
    auth.throttle = SignInThrottle(max_tracked=50)
    try:
        for n in range(500):
            assert await auth.identify("wr_nope", f"10.0.{n // 256}.{n % 256}") is None
        assert auth.throttle.tracked == 100, "50 consoles and 50 addresses"
        # The latest guessers are the ones remembered: a repeat from the last one waits.
        recorded_waits.clear()
        assert await auth.identify("wr_nope", "10.0.1.243") is None
        assert recorded_waits == [0.1]
    finally:
        await store.close()


async def test_concurrent_bad_handshakes_all_get_401_and_share_user_table_reads(
    db_path: Path, recorded_waits: list[float]
) -> None:
    good = await create_user(db_path, "alice")
    async with await start_node(db_path, ServerSettings(port=0)) as server:
        reads = CountedCalls(server.store, "users")

        async def guess(n: int) -> int:
            with pytest.raises(InvalidStatus) as refused:
                await connect(server.url, additional_headers={"Authorization": f"Bearer x{n}"})
            return refused.value.response.status_code

        statuses = await asyncio.gather(*(guess(n) for n in range(300)))
        assert set(statuses) == {401}
        assert reads.calls < 300, "concurrent handshakes share one read of the user table"
        assert max(recorded_waits) <= 2.0
        peer = await Peer.open(server.url, good)  # and the real owner still gets in
        await peer.close()


async def test_bad_tokens_at_the_handshake_are_refused_and_slowed_down(
    db_path: Path, recorded_waits: list[float]
) -> None:
    good = await create_user(db_path, "alice")
    async with await start_node(db_path, ServerSettings(port=0)) as server:
        for n in range(5):
            with pytest.raises(InvalidStatus) as refused:
                await connect(server.url, additional_headers={"Authorization": f"Bearer bad{n}"})
            assert refused.value.response.status_code == 401
        assert recorded_waits[0] == 0.0
        assert recorded_waits[-1] > recorded_waits[1] > 0, recorded_waits
        peer = await Peer.open(server.url, good)  # the owner of a real token gets in at once
        await peer.close()


# --- abuse stays with the abuser ------------------------------------------------------------


async def test_oversized_frames_and_floods_are_refused_per_connection_without_hurting_others(
    db_path: Path,
) -> None:
    names = ("alice", "bob", "mallory")
    tokens = {n: await create_user(db_path, n) for n in names}
    settings = ServerSettings(port=0, rate=20, burst=20)
    async with asyncio.timeout(30), await start_node(db_path, settings) as server:
        alice = await Peer.open(server.url, tokens["alice"])
        incident = await alice.declare()
        assigned = await alice.request(
            {"type": "assign_role", "incident_id": incident, "role": "tl", "user": "bob"}
        )
        assert assigned["type"] == "ack"
        bob = WarroomClient(server.url, tokens["bob"])
        await bob.start()
        await bob.follow(incident)

        async def flood() -> list[dict[str, Any]]:
            flooder = await Peer.open(server.url, tokens["mallory"])
            raws = [json.dumps({"type": "list_incidents", "id": f"f{n}"}) for n in range(300)]
            for raw in raws:  # one burst, as fast as the socket takes it
                await flooder.ws.send(raw)
            replies = [json.loads(await flooder.ws.recv()) for _ in range(300)]
            await flooder.close()
            return replies

        async def oversize() -> int | None:
            offender = await Peer.open(server.url, tokens["mallory"])
            await offender.ws.send("[" + "1," * (MAX_FRAME_BYTES // 2) + "1]")
            with pytest.raises(ConnectionClosed) as closed:
                await offender.recv()
            return closed.value.rcvd.code if closed.value.rcvd else None

        async def too_long() -> dict[str, Any]:
            talker = await Peer.open(server.url, tokens["mallory"])
            refusal = await talker.request(
                {"type": "add_entry", "incident_id": incident, "text": "a" * (MAX_ENTRY_TEXT + 1)}
            )
            again = await talker.request({"type": "list_incidents"})  # still usable
            assert again["type"] == "incidents"
            await talker.close()
            return refusal

        async def victim() -> list[int]:
            acks = []
            for n in range(10):
                ack = await bob.execute(AddEntry(id=f"bob{n}", incident_id=incident, text=f"{n}"))
                acks.append(ack.seq)
            return acks

        replies, close_code, refusal, acks = await asyncio.gather(
            flood(), oversize(), too_long(), victim()
        )
        for reply in replies:
            SERVER_FRAME_ADAPTER.validate_python(reply)
        assert {r["id"] for r in replies} == {f"f{n}" for n in range(300)}, "one answer each"
        limited = [r for r in replies if r.get("code") == "rate_limited"]
        assert len(limited) >= 250, "the flood is refused beyond the burst"
        assert close_code == 1009, "an oversized frame closes only its own connection"
        assert refusal["code"] == "too_large"

        # The bystander got every write through and sees all of them.
        assert len(acks) == 10
        await seq_reached(bob, incident, acks[-1]).wait()
        texts = [e.text for e in bob.states[incident].timeline if e.kind == "note"]
        assert texts == [str(n) for n in range(10)]
        # The limit is per connection and never hurts another user: alice's fresh connection
        # is served at once. Mallory's takes up the allowance her closed ones left (refilled
        # since, `LeftBudgets`): answered, served or refused as rate limited, never hung.
        fresh = await Peer.open(server.url, tokens["alice"])
        assert (await fresh.request({"type": "list_incidents"}))["type"] == "incidents"
        await fresh.close()
        hers = await Peer.open(server.url, tokens["mallory"])
        answer = await hers.request({"type": "list_incidents"})
        assert answer["type"] == "incidents" or answer.get("code") == "rate_limited", answer
        await hers.close()
        log = await alice.request({"type": "read_log", "incident_id": incident})
        assert {e["actor"] for e in log["events"]} == {"alice", "bob"}, "abuse changed nothing"
        await bob.close()
        await alice.close()


async def test_a_flood_of_writes_applies_only_what_was_acknowledged(db_path: Path) -> None:
    token = await create_user(db_path, "alice")
    settings = ServerSettings(port=0, rate=5, burst=10)
    async with asyncio.timeout(30), await start_node(db_path, settings) as server:
        alice = await Peer.open(server.url, token)
        incident = await alice.declare()
        frames = [
            json.dumps({"type": "add_entry", "id": f"w{n}", "incident_id": incident, "text": "w"})
            for n in range(60)
        ]
        for frame in frames:
            await alice.ws.send(frame)
        replies = [json.loads(await alice.ws.recv()) for _ in range(60)]
        acked = {r["id"] for r in replies if r["type"] == "ack"}
        limited = {r["id"] for r in replies if r.get("code") == "rate_limited"}
        assert acked | limited == {f"w{n}" for n in range(60)}
        assert len(limited) >= 45
        fresh = await Peer.open(server.url, token)  # alice's own connection is out of tokens
        log = await fresh.request({"type": "read_log", "incident_id": incident})
        assert {e["command_id"] for e in log["events"][1:]} == acked
        await fresh.close()
        await alice.close()


async def test_handshakes_abandoned_by_the_client_leave_nothing_behind(
    server: WarroomNode, add_user: AddUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client with a valid token that drops the connection before the handshake completes
    (a flaky network, or someone doing it on purpose, thousands of times) costs the server
    nothing once the connection is gone."""
    token = await add_user("alice")
    attempts = 20
    checked = asyncio.Event()
    done = 0
    identify = server.auth.identify

    async def counted(token: str | None, peer: str, console: str = "") -> str | None:
        nonlocal done
        try:
            return await identify(token, peer, console)
        finally:
            done += 1
            if done == attempts:
                checked.set()

    monkeypatch.setattr(server.auth, "identify", counted)
    for _ in range(attempts):
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(handshake_request(server.port, token))
        await writer.drain()
        writer.transport.abort()  # gone before the server's 101 answer
    async with asyncio.timeout(10):
        await checked.wait()

    connections = [
        weakref.ref(o)
        for o in gc.get_objects()
        # Proxies first: isinstance() on a dead weak proxy raises ReferenceError.
        if not isinstance(o, weakref.ProxyTypes) and isinstance(o, ServerConnection)
    ]
    # With nothing holding them, the connections may already be gone: that passes too.

    def alive() -> int:
        gc.collect()
        return sum(ref() is not None for ref in connections)

    # There is no event for "the server let go of a dead connection": poll, bounded (2 s).
    for _ in range(40):
        if alive() == 0:
            break
        await asyncio.sleep(0.05)
    assert alive() == 0, f"the server keeps {alive()} abandoned connections alive"


# --- hostile text -------------------------------------------------------------------------------

HOSTILE_TEXTS = [
    "[bold red]PWNED[/bold red] [link=https://evil.example]click[/link] [/]",
    "\x1b[2J\x1b[H\x1b[31mscreen wiped\x1b[0m",
    "\x1b]8;;https://evil.example\x1b\\innocent link\x1b]8;;\x1b\\",
    "\x1b]52;c;cm0gLXJmIH4K\x07clipboard overwritten",
    "\x9b31m eight-bit CSI \x9d0;title\x9c",
    "invoice\u202e\u2066fdp.exe\u2069 and \u200f\u061c marks",
    "<script>alert(1)</script><img src=x onerror=alert(1)><!--",
    "# Heading\n- [x] fake task\n| a | b |\n```\n](javascript:alert(1))",
    "null \x00 byte, DEL \x7f, bell \x07, backspace \x08\x08\x08, CR\roverwrite\r\n",
]
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


@pytest.fixture
async def hostile_incident(server: WarroomNode, add_user: AddUser) -> tuple[list[Event], Any]:
    """An incident whose timeline holds every hostile text, read back from the server, plus a
    following client's copy."""
    token = await add_user("alice")
    peer = await Peer.open(server.url, token)
    incident = await peer.declare(title="Payments <b>down</b> [red]x[/red]")
    follower = WarroomClient(server.url, token)
    await follower.start()
    await follower.follow(incident)
    for n, text in enumerate(HOSTILE_TEXTS):
        ack = await peer.request(
            {"type": "add_entry", "id": f"h{n}", "incident_id": incident, "text": text}
        )
        assert ack["type"] == "ack", ack
    raw = await peer.request({"type": "read_log", "incident_id": incident})
    await peer.close()
    events = [Event.model_validate(e) for e in raw["events"]]
    await seq_reached(follower, incident, events[-1].seq).wait()
    state = follower.states[incident]
    await follower.close()
    return events, state


async def test_hostile_text_is_stored_and_served_exactly_as_given(
    hostile_incident: tuple[list[Event], Any],
) -> None:
    events, state = hostile_incident
    stored = [getattr(e.body, "text", None) for e in events if e.body.type == "entry_added"]
    assert stored == HOSTILE_TEXTS
    assert [e.text for e in state.timeline if e.kind == "note"] == HOSTILE_TEXTS
    assert state.model_dump() == replay(events).model_dump()


@pytest.mark.parametrize("render", [render_markdown, render_html], ids=["markdown", "html"])
async def test_hostile_text_is_escaped_in_markdown_and_html_exports(
    hostile_incident: tuple[list[Event], Any], render: Callable[..., str]
) -> None:
    events, _ = hostile_incident
    document = render(replay(events), events, tz=UTC, generated_at=datetime.now(UTC))
    found = sorted({f"U+{ord(c):04X}" for c in _UNSAFE.findall(document)})
    assert found == [], f"raw control or bidi characters in the export: {found}"
    # Markdown writes a typed "<" as "\\<", which renders as text: only a bare "<" opens a tag.
    lowered = document.lower().replace("\\\\", "").replace("\\<", "")
    assert "<script" not in lowered
    assert "<img" not in lowered
    assert "<!--" not in lowered
    assert "PWNED" in document, "the text is still there, only inert"


async def test_json_export_round_trips_hostile_text_and_escapes_every_control_and_bidi_char(
    hostile_incident: tuple[list[Event], Any],
) -> None:
    events, _ = hostile_incident
    exported = export_json(events)
    document = json.loads(exported)
    texts = [e["body"]["text"] for e in document["events"] if e["body"]["type"] == "entry_added"]
    assert texts == HOSTILE_TEXTS, "the export keeps the text exactly"
    # Printed to a terminal (`warroom export` writes to stdout), the file itself must be inert:
    # C0 controls are escaped by JSON itself, but DEL, C1 controls (an 8-bit CSI) and bidi
    # overrides must be written as \\u escapes too.
    found = sorted({f"U+{ord(c):04X}" for c in _UNSAFE.findall(exported)})
    assert found == [], f"raw control or bidi characters in the JSON export: {found}"


# --- private files ------------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 000: whatever is private is so because the code made it so, not the environment."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def private(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


async def test_database_and_its_journal_files_are_private(
    tmp_path: Path, permissive_umask: None
) -> None:
    db = tmp_path / "fresh" / "warroom.db"
    token = await create_user(db, "alice")
    async with await start_node(db, ServerSettings(port=0)) as server:
        peer = await Peer.open(server.url, token)
        await peer.declare()
        files = sorted(db.parent.glob("warroom.db*"))
        assert {f.name for f in files} >= {"warroom.db", "warroom.db-wal", "warroom.db-shm"}
        for f in files:
            assert private(f), f"{f.name} is {oct(f.stat().st_mode & 0o777)}"
        await peer.close()


async def test_local_token_file_is_private(
    tmp_path: Path, warroom_home: Path, permissive_umask: None
) -> None:
    db = tmp_path / "local.db"
    token = await ensure_local_token(db)
    token_file = local_token_file()
    assert token_file.is_relative_to(warroom_home)
    assert token_file.read_text().strip() == token
    assert private(token_file), oct(token_file.stat().st_mode & 0o777)
    assert private(db)
    assert await ensure_local_token(db) == token  # read back, not made again


async def test_outbox_file_is_private(warroom_home: Path, permissive_umask: None) -> None:
    path = warroom_home / "outbox" / "x.jsonl"
    outbox = Outbox(path)
    outbox.add({"type": "add_entry", "id": new_id(), "incident_id": 1, "text": "secret plan"})
    assert private(path), oct(path.stat().st_mode & 0o777)
    assert private(path.parent)
