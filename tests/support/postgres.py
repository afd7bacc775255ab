"""A real PostgreSQL for the tests: one server per test session, one fresh database per test.

The server is Debian's `postgresql` package (`scripts/setup-tests` installs it), started here with
`initdb` + `pg_ctl` in a temporary data directory, listening on a Unix socket in that directory
and on a free loopback port. PostgreSQL refuses to run as root, so when the tests run as root (as
CI does) the server runs as the package's `postgres` user. Local socket connections are trusted;
the loopback port asks for a password (SCRAM), so the password path is exercised for real.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import asyncpg
import pytest

SUPERUSER = "warroom"
PASSWORD = "test-only-secret-9f2c"
"""The superuser's password for loopback (TCP) connections; the socket needs none."""
READY_WITHIN = 30.0
"""Seconds a fresh server may take to accept connections before the session fails."""


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    versions = sorted(
        (int(match.group(1)), path)
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (match := re.fullmatch(r"(\d+)", path.parent.name)) and (path / "initdb").exists()
    )
    if versions:
        return versions[-1][1]
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail("PostgreSQL is not installed: run scripts/setup-tests (as root)")
    return Path(initdb).parent


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: where its socket and port are, and how to reach a database."""

    socket_dir: Path
    port: int

    def url(self, database: str, *, tcp: bool = False) -> str:
        """A URL without a password: over the socket (trusted) or the loopback port."""
        if tcp:
            return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"


def _as_server_user(argv: list[str]) -> list[str]:
    # PostgreSQL will not run as root; an ordinary user runs it as themselves.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(bindir: Path, server: PostgresServer, log: Path) -> None:
    """Ask `pg_isready` until the server accepts connections, bounded in time."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        probe = subprocess.run(
            [
                str(bindir / "pg_isready"),
                "-q",
                "-h",
                str(server.socket_dir),
                "-p",
                str(server.port),
                "-t",
                "2",
            ],
            check=False,
        )
        if probe.returncode == 0:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"PostgreSQL did not accept connections: {log.read_text()[-2000:]}")


@dataclass(frozen=True)
class PostgresCluster:
    """A private test server that a test may stop and start again (a database failover)."""

    server: PostgresServer
    bindir: Path
    data: Path
    log: Path
    options: str

    def stop(self) -> None:
        """Stop at once (immediate mode: no checkpoint, every client cut off, as in a crash)."""
        stop = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_server_user(stop), check=True, capture_output=True)

    def start(self) -> None:
        start = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        start += ["-o", self.options, "-w", "start"]
        subprocess.run(_as_server_user(start), check=True, capture_output=True)
        _wait_until_ready(self.bindir, self.server, self.log)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresCluster]:
    """Start a private PostgreSQL in a temporary directory and stop it (fast shutdown) at the
    end."""
    bindir = postgres_bin()
    # Not under pytest's tmp dir: that one is private to root, and the server user must reach
    # its data directory and socket. The path stays short for the socket's 107-byte limit.
    root = Path(tempfile.mkdtemp(prefix="warroom-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    os.chmod(root, 0o711)
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    initdb = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        SUPERUSER,
        f"--pwfile={pwfile}",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",  # a throwaway cluster: its own durability is not under test
    ]
    subprocess.run(_as_server_user(initdb), check=True, capture_output=True)
    pwfile.unlink()
    server = PostgresServer(socket_dir=root, port=_free_port())
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} "
        f"-c unix_socket_directories={root} -c max_connections=200 -c fsync=on"
    )
    cluster = PostgresCluster(server, bindir, data, log, options)
    try:
        cluster.start()
        yield cluster
    finally:
        stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_server_user(stop), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL for the session and stop it at the end."""
    with running_postgres() as cluster:
        yield cluster.server


_databases = count(1)


@contextlib.asynccontextmanager
async def fresh_database(server: PostgresServer) -> AsyncIterator[str]:
    """Create an empty database (from template0) and drop it afterwards; yields its URL."""
    name = f"test_{os.getpid()}_{next(_databases)}"
    admin = await asyncpg.connect(server.url("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield server.url(name)
        finally:
            # WITH (FORCE): a test that failed may have left a connection open.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def pg_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for this test, as a URL without a password."""
    async with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The same test on each backend: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'warroom.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async with fresh_database(server) as url:
        yield url


async def stored_command_ids(url: str, incident_id: int) -> list[tuple[int, str | None]]:
    """(seq, command id) of every event of an incident, read straight from the database (for
    a check made while a node is down, without asking any node)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT seq, command_id FROM events WHERE incident_id = $1 ORDER BY seq", incident_id
        )
    finally:
        await conn.close()
    return [(int(r["seq"]), r["command_id"]) for r in rows]
