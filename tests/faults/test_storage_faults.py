"""The database file misbehaves: locked by another process, read-only, disk full, corrupt.

While the cause lasts, writes are refused with a clear `unavailable` error and change nothing;
everything acknowledged before is still there; when the cause goes away the server accepts the
very same writes again, with no gap in the sequence. A corrupt file is refused at start with one
clear line, never a traceback.

How each fault is made, including as root (root ignores file modes, and chmod on a file that is
already open changes nothing for the process holding it anyway):
- locked: a second sqlite3 connection holds `BEGIN EXCLUSIVE` (a real lock, any user). The
  server's busy timeout (5 s) is shortened on its own connection so the test does not wait.
- read-only while running: `PRAGMA query_only` on the server's connection makes SQLite return
  SQLITE_READONLY, the error a read-only file gives (any user); as root, additionally, the
  immutable flag (`chattr +i`) on the database and its WAL, which makes the kernel refuse the
  writes (EPERM) through the descriptors the server already holds. (Not on the -shm file: SQLite
  maps it into memory and a refused write there is SIGBUS for any SQLite process.)
- read-only at start: the file and its directory are made read-only; as root, the server runs
  as `nobody` so that the modes apply.
- disk full: `PRAGMA max_page_count` on the server's connection, so SQLite returns SQLITE_FULL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.core.serverproc import free_port
from tests.core.wire import Peer
from tests.support.client_sync import seq_reached
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient
from warroom.domain.events import Event
from warroom.domain.projection import replay
from warroom.node import WarroomNode, start_node
from warroom.store.base import StoreError
from warroom.store.sqlite import SqliteStore
from warroom.users import create_user

AddUser = Callable[[str], Awaitable[str]]


def _immutable_flag_works(directory: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        return False
    probe = directory / "probe"
    probe.touch()
    try:
        done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
        return done.returncode == 0
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True, check=False)
        probe.unlink()


class Fault:
    """Something wrong with the database file, made and then undone while the server runs."""

    def __init__(self, server: WarroomNode, db: Path) -> None:
        self.server = server
        self.db = db

    async def pragma(self, statement: str) -> Any:
        # The store's own connection: the pragma applies to the server's session.
        store = self.server.store
        assert isinstance(store, SqliteStore)  # these faults are a SQLite file's
        async with store._db.execute(statement) as cursor:
            return await cursor.fetchone()

    async def inject(self) -> None:
        raise NotImplementedError

    async def heal(self) -> None:
        raise NotImplementedError


class Locked(Fault):
    async def inject(self) -> None:
        await self.pragma("PRAGMA busy_timeout = 100")
        self.holder = sqlite3.connect(self.db, isolation_level=None)
        self.holder.execute("BEGIN EXCLUSIVE")

    async def heal(self) -> None:
        self.holder.execute("ROLLBACK")
        self.holder.close()


class QueryOnly(Fault):
    async def inject(self) -> None:
        await self.pragma("PRAGMA query_only = ON")

    async def heal(self) -> None:
        await self.pragma("PRAGMA query_only = OFF")


class Immutable(Fault):
    def files(self) -> list[str]:
        return [str(self.db), f"{self.db}-wal"]

    async def inject(self) -> None:
        subprocess.run(["chattr", "+i", *self.files()], check=True)

    async def heal(self) -> None:
        subprocess.run(["chattr", "-i", *self.files()], check=True)


class DiskFull(Fault):
    async def inject(self) -> None:
        (pages,) = await self.pragma("PRAGMA page_count")
        await self.pragma(f"PRAGMA max_page_count = {pages}")

    async def heal(self) -> None:
        await self.pragma("PRAGMA max_page_count = 1073741823")


FAULTS: dict[str, type[Fault]] = {
    "locked by another connection": Locked,
    "read-only (SQLITE_READONLY)": QueryOnly,
    "disk full (SQLITE_FULL)": DiskFull,
}
if _immutable_flag_works(Path(tempfile.gettempdir())):
    FAULTS["read-only (immutable file, root)"] = Immutable


@pytest.fixture
async def alice(server: WarroomNode, add_user: AddUser) -> AsyncIterator[Peer]:
    peer = await Peer.open(server.url, await add_user("alice"))
    yield peer
    await peer.close()


@pytest.mark.parametrize("fault_name", list(FAULTS))
async def test_writes_refused_while_storage_fails_and_accepted_once_it_recovers(
    server: WarroomNode,
    db_path: Path,
    alice: Peer,
    add_user: AddUser,
    fault_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    incident = await alice.declare(severity=1)
    follower = WarroomClient(server.url, await add_user("bob"))
    await follower.start()
    await follower.follow(incident)
    for n in range(5):
        ack = await alice.request(
            {"type": "add_entry", "id": f"before{n}", "incident_id": incident, "text": f"b{n}"}
        )
        assert ack["type"] == "ack"
    acknowledged = (await alice.request({"type": "read_log", "incident_id": incident}))["events"]

    writes = [
        {"type": "add_entry", "id": f"during{n}", "incident_id": incident, "text": "x" * 5000}
        for n in range(3)
    ] + [{"type": "declare_incident", "id": "during-declare", "title": "Other", "severity": 3}]
    fault = FAULTS[fault_name](server, db_path)
    await fault.inject()
    try:
        async with asyncio.timeout(20):
            sent = [await alice.send(dict(w)) for w in writes]
            refusals = [await alice.reply_to(i) for i in sent]
            for refusal in refusals:
                assert refusal["type"] == "error", refusal
                assert refusal["code"] == "unavailable"
                assert refusal["message"].startswith("not saved:")
                # Clients are not told where the database lives; the server's log says so.
                assert str(db_path) not in refusal["message"]
                assert db_path.name not in refusal["message"]
            assert any(
                str(db_path) in r.getMessage() for r in caplog.records if r.levelname == "ERROR"
            ), "the server's log says which file is the problem"
            # Reads still work and show exactly what was acknowledged, nothing half-done.
            log = await alice.request({"type": "read_log", "incident_id": incident})
            assert log["events"] == acknowledged
            listing = await alice.request({"type": "list_incidents"})
            assert [i["id"] for i in listing["incidents"]] == [incident]
            state = server.hub.incident_state(incident)
            assert state is not None
            assert (
                state.model_dump()
                == replay([Event.model_validate(e) for e in log["events"]]).model_dump()
            )
    finally:
        await fault.heal()

    async with asyncio.timeout(20):
        # The same writes, retried with the same ids, are now applied, each once, with no gap.
        acks = [await alice.request(dict(w)) for w in writes]
        assert [a["type"] for a in acks] == ["ack"] * len(writes), acks
        assert not any(a["duplicate"] for a in acks)
        first_new = len(acknowledged) + 1
        assert [a["seq"] for a in acks[:3]] == [first_new, first_new + 1, first_new + 2]
        events = (await alice.request({"type": "read_log", "incident_id": incident}))["events"]
        assert events[: len(acknowledged)] == acknowledged
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        await seq_reached(follower, incident, len(events)).wait()
        log_state = replay([Event.model_validate(e) for e in events])
        assert follower.states[incident].model_dump() == log_state.model_dump()
    await follower.close()


async def test_acknowledged_writes_survive_a_storage_fault_and_a_restart(
    db_path: Path, add_user: AddUser
) -> None:
    token = await add_user("alice")
    async with await start_node(db_path, TEST_SETTINGS) as server:
        peer = await Peer.open(server.url, token)
        incident = await peer.declare()
        await peer.request(
            {"type": "add_entry", "id": "kept", "incident_id": incident, "text": "k"}
        )
        fault = DiskFull(server, db_path)
        await fault.inject()
        refused = await peer.request(
            {"type": "add_entry", "id": "lost", "incident_id": incident, "text": "y" * 9000}
        )
        assert refused["code"] == "unavailable"
        await peer.close()
    async with await start_node(db_path, TEST_SETTINGS) as again:
        peer = await Peer.open(again.url, token)
        log = await peer.request({"type": "read_log", "incident_id": incident})
        assert [e["command_id"] for e in log["events"]][1:] == ["kept"]
        await peer.close()


# --- corrupt and unreadable files at start ---------------------------------------------------


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real warroom database with a few hundred events, checkpointed into the main file."""
    db = tmp_path_factory.mktemp("real") / "real.db"

    async def build() -> None:
        token = await create_user(db, "alice")
        async with await start_node(db, TEST_SETTINGS) as server:
            peer = await Peer.open(server.url, token)
            incident = await peer.declare()
            for _ in range(200):
                await peer.send({"type": "add_entry", "incident_id": incident, "text": "e" * 400})
            await peer.request({"type": "read_log", "incident_id": incident})
            await peer.close()

    asyncio.run(build())
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    return db


def _rewrite_rows(source: Path, target: Path, *statements: str) -> None:
    shutil.copy(source, target)
    connection = sqlite3.connect(target)
    with connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def corrupt(kind: str, real: Path, target: Path) -> None:
    data = real.read_bytes()
    rng = __import__("random").Random(kind)
    if kind == "random bytes":
        target.write_bytes(rng.randbytes(64 * 1024))
    elif kind == "text file":
        target.write_text("this is my shopping list, not a database\n" * 50)
    elif kind == "truncated to half":
        target.write_bytes(data[: len(data) // 2])
    elif kind == "first page only":
        target.write_bytes(data[:4096])
    elif kind == "header kept, rest scrambled":
        target.write_bytes(data[:100] + rng.randbytes(len(data) - 100))
    elif kind == "b-tree pages scrambled":
        # Two b-tree pages damaged: SQLite's integrity check reports them over several lines.
        scrambled = bytearray(data)
        for page in (2, 5):
            scrambled[page * 4096 : page * 4096 + 200] = rng.randbytes(200)
        target.write_bytes(bytes(scrambled))
    elif kind == "an event row with an unreadable body":
        _rewrite_rows(real, target, 'UPDATE events SET body = \'{"type": "entry_ad\' WHERE seq = 7')
    elif kind == "an event log with a gap":
        _rewrite_rows(real, target, "DELETE FROM events WHERE seq = 9")
    else:
        raise AssertionError(kind)


CORRUPTIONS = [
    "random bytes",
    "text file",
    "truncated to half",
    "first page only",
    "header kept, rest scrambled",
    "b-tree pages scrambled",
    "an event row with an unreadable body",
    "an event log with a gap",
]


@pytest.mark.parametrize("kind", CORRUPTIONS)
async def test_corrupt_database_is_refused_at_start_with_a_store_error(
    real_db: Path, tmp_path: Path, kind: str
) -> None:
    db = tmp_path / "corrupt.db"
    corrupt(kind, real_db, db)
    with pytest.raises(StoreError) as refused:
        await start_node(db, TEST_SETTINGS)
    assert str(db) in str(refused.value)


def one_clear_line(stderr: str, db: Path) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert len(lines) == 1, stderr[-3000:]
    assert lines[0].startswith("warroom: "), lines[0]
    assert str(db) in lines[0], "the message names the file"


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_cli_serve_on_a_corrupt_database_prints_one_line_and_exits_non_zero(
    real_db: Path, tmp_path: Path, kind: str
) -> None:
    db = tmp_path / "corrupt.db"
    corrupt(kind, real_db, db)
    command = [
        sys.executable,
        "-m",
        "warroom",
        "serve",
        "--port",
        str(free_port()),
        "--db",
        str(db),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0
    one_clear_line(done.stderr, db)


# The CLI, in a process that drops root (if it has it) after loading its code, as a service
# started by root would: file modes bind `nobody`, and the interpreter under /root stays usable.
_AS_NOBODY = """
import os, sys
import concurrent.futures.thread, warroom.cli, warroom.cli.actions, warroom.server.app
if os.geteuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
sys.exit(warroom.cli.main(sys.argv[1:]))
"""


def test_cli_serve_on_a_read_only_database_prints_one_line_and_exits_non_zero(
    real_db: Path,
) -> None:
    # Directly under /tmp, so that `nobody` can reach it when the test runs as root.
    base = Path(tempfile.mkdtemp(prefix="warroom-ro-"))
    try:
        db = base / "ro.db"
        shutil.copy(real_db, db)
        db.chmod(0o444)
        base.chmod(0o555)  # not even a -wal file could be created next to it
        env = {**os.environ, "WARROOM_HOME": str(base / "home")}
        command = [sys.executable, "-c", _AS_NOBODY, "serve", "--port", str(free_port())]
        done = subprocess.run(
            [*command, "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=env,
            cwd=base,
        )
        assert done.returncode != 0
        one_clear_line(done.stderr, db)
    finally:
        base.chmod(0o755)
        with contextlib.suppress(OSError):
            shutil.rmtree(base)
