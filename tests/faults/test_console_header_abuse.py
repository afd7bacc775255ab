"""The `X-Warroom-Console` header under abuse, against the real server: a guesser making up a new
console id for every guess is still slowed by its address, the throttle's tables stay bounded,
repeated headers are refused like a wrong token (not a server error), and huge values or control
characters change nothing and are never logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from tests.support.settings import TEST_SETTINGS
from warroom.node import WarroomNode, start_node
from warroom.protocol.handshake import CONSOLE_HEADER, MAX_HANDSHAKE_HEADER_LINE
from warroom.server.sign_in_throttle import (
    ADDRESS_ALLOWANCE,
    MAX_CONSOLE_ID,
    MAX_WAIT,
    SignInThrottle,
)
from warroom.users import create_user

HeaderList = list[tuple[str, str]]


class StoppedClock:
    """A monotonic clock that does not move: no failure is forgiven during the test."""

    def __call__(self) -> float:
        return 1000.0


async def _status(node: WarroomNode, headers: HeaderList) -> int:
    """The status the server answers a handshake with these headers (101: accepted)."""
    try:
        async with connect(node.url, additional_headers=headers, open_timeout=30):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


@asynccontextmanager
async def node_on_a_stopped_clock(
    db_path: Path,
) -> AsyncIterator[tuple[WarroomNode, SignInThrottle]]:
    """A node whose sign-in throttle's clock never moves, so no failure leaks away mid-test."""
    async with await start_node(db_path, TEST_SETTINGS) as node:
        throttle = SignInThrottle(StoppedClock())
        node.auth.throttle = throttle
        yield node, throttle


async def test_a_new_console_id_for_every_guess_is_slowed_by_the_address_and_stays_bounded(
    db_path: Path, recorded_waits: list[float]
) -> None:
    await create_user(db_path, "alice")
    tracked_at_most = 200
    guesses = 3 * tracked_at_most
    async with await start_node(db_path, TEST_SETTINGS) as node:
        throttle = SignInThrottle(StoppedClock(), max_tracked=tracked_at_most)
        node.auth.throttle = throttle
        for n in range(guesses):
            headers = [("Authorization", f"Bearer wr_guess{n}"), (CONSOLE_HEADER, f"made-up-{n}")]
            assert await _status(node, headers) == 401
        assert throttle.tracked <= tracked_at_most + 1, "one address, the consoles bounded"
        assert recorded_waits[:ADDRESS_ALLOWANCE] == [0.0] * ADDRESS_ALLOWANCE
        assert recorded_waits[-1] == MAX_WAIT, "the address's count bites whatever the id"
        assert throttle.failures("127.0.0.1", "anything")[1] >= ADDRESS_ALLOWANCE


async def test_repeated_console_or_authorization_headers_are_refused_as_a_wrong_token(
    db_path: Path, recorded_waits: list[float]
) -> None:
    good = await create_user(db_path, "alice")
    async with node_on_a_stopped_clock(db_path) as (node, throttle):
        twice_console = [
            ("Authorization", "Bearer wr_wrong"),
            (CONSOLE_HEADER, "a"),
            (CONSOLE_HEADER, "b"),
        ]
        assert await _status(node, twice_console) == 401
        assert throttle.failures("127.0.0.1", "a,b") == (1, 1), "one console, counted"
        twice_token = [("Authorization", f"Bearer {good}"), ("Authorization", "Bearer wr_x")]
        assert await _status(node, twice_token) == 401
        assert throttle.failures("127.0.0.1", "")[1] == 2
        assert await _status(node, [("Authorization", f"Bearer {good}")]) == 101


async def _raw_status(node: WarroomNode, headers: bytes) -> int:
    """The status the server answers a handshake written byte for byte (a client library
    refuses to send what a hostile client sends); 0 if it closes the connection unanswered."""
    host, port = node.url.removeprefix("ws://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n" + headers + b"\r\n"
        )
        status_line = await reader.readline()
        # An unparsable request is closed unanswered (websockets): no upgrade, no status.
        return int(status_line.split()[1]) if status_line else 0
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_a_huge_console_id_is_cut_to_a_small_key_and_counted(
    db_path: Path, recorded_waits: list[float]
) -> None:
    good = await create_user(db_path, "alice")
    value = "x" * (MAX_HANDSHAKE_HEADER_LINE - 100)  # under the server's line limit
    async with node_on_a_stopped_clock(db_path) as (node, throttle):
        wrong = [("Authorization", "Bearer wr_wrong"), (CONSOLE_HEADER, value)]
        assert await _status(node, wrong) == 401
        assert throttle.failures("127.0.0.1", value[:MAX_CONSOLE_ID]) == (1, 1)
        right = [("Authorization", f"Bearer {good}"), (CONSOLE_HEADER, value)]
        assert await _status(node, right) == 101


@pytest.mark.parametrize(
    "value",
    [b"\x1b[2J\x1b]0;owned\x07console", b"\xe2\x80\xaeconsole\xe2\x80\x8b", b"a\x00b"],
    ids=["terminal-escapes", "bidi-controls", "nul"],
)
async def test_control_characters_in_a_console_id_are_refused_or_kept_as_data_never_logged(
    db_path: Path,
    recorded_waits: list[float],
    caplog: pytest.LogCaptureFixture,
    value: bytes,
) -> None:
    good = await create_user(db_path, "alice")
    caplog.set_level(logging.INFO)
    async with node_on_a_stopped_clock(db_path) as (node, _):
        header = CONSOLE_HEADER.encode() + b": " + value + b"\r\n"
        wrong = await _raw_status(node, b"Authorization: Bearer wr_wrong\r\n" + header)
        right = await _raw_status(node, f"Authorization: Bearer {good}\r\n".encode() + header)
        assert (wrong, right) in {(0, 0), (401, 101)}, "refused unanswered, or mere data"
        assert await _status(node, [("Authorization", f"Bearer {good}")]) == 101
    assert "console" not in caplog.text
    assert not {"\x1b", "\x07", "\x00", "\u202e"} & set(caplog.text)


async def test_a_console_header_past_the_line_limit_is_refused_and_the_server_serves_on(
    db_path: Path, recorded_waits: list[float]
) -> None:
    good = await create_user(db_path, "alice")
    async with node_on_a_stopped_clock(db_path) as (node, throttle):
        huge = [("Authorization", f"Bearer {good}"), (CONSOLE_HEADER, "x" * 100_000)]
        with pytest.raises((InvalidHandshake, OSError)):
            async with connect(node.url, additional_headers=huge, open_timeout=30):
                pass
        assert throttle.tracked == 0, "refused before any token was checked"
        assert await _status(node, [("Authorization", f"Bearer {good}")]) == 101
