"""The sign-in throttle when many people share one address (the browser sessions of `warroom web`
on one web host, an office behind one NAT): one console's typos slow only that console, a
success wipes nobody's failures, a guesser is slowed however it names itself, and the people
beside it wait at most two seconds and only while it guesses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.settings import TEST_SETTINGS
from warroom.client.session import CONSOLE_ID, AuthError, WarroomClient
from warroom.node import start_node
from warroom.protocol.handshake import CONSOLE_HEADER
from warroom.server.sign_in_throttle import (
    ADDRESS_ALLOWANCE,
    FORGIVE_SECONDS,
    MAX_WAIT,
    SignInThrottle,
)
from warroom.users import create_user

WEB_HOST = "192.0.2.80"
"""The address every browser session of one `warroom web` signs in from."""


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SignInThrottle, console: str, address: str = WEB_HOST) -> float:
    """One refused sign-in, as the server handles it; the wait it had."""
    wait = throttle.wait(address, console)
    throttle.failed(address, console)
    return wait


def succeed(throttle: SignInThrottle, console: str, address: str = WEB_HOST) -> float:
    """One accepted sign-in, as the server handles it; the wait it had."""
    return throttle.wait(address, console)


def test_one_sessions_typos_do_not_slow_another_session_on_the_same_address() -> None:
    throttle = SignInThrottle(Clock())
    typist = [fail(throttle, "session-a") for _ in range(6)]
    assert typist == [0.0, 0.1, 0.2, 0.4, 0.8, 1.6]
    assert fail(throttle, "session-b") == 0.0
    assert succeed(throttle, "session-c") == 0.0


def test_a_success_does_not_wipe_another_sessions_failures() -> None:
    throttle = SignInThrottle(Clock())
    for _ in range(5):
        fail(throttle, "session-a")
    before = throttle.failures(WEB_HOST, "session-a")
    assert succeed(throttle, "session-b") == 0.0
    assert throttle.failures(WEB_HOST, "session-a") == before
    assert fail(throttle, "session-a") == 1.6


def test_signing_in_with_a_valid_token_between_guesses_resets_nothing() -> None:
    throttle = SignInThrottle(Clock())
    waits = []
    for _ in range(8):
        waits.append(fail(throttle, "guesser"))
        waits.append(succeed(throttle, "guesser"))  # the guesser's own valid token
    assert waits[-2:] == [MAX_WAIT, MAX_WAIT], waits
    assert waits == sorted(waits), "a success never brought the wait down"


def test_thousands_of_failures_from_made_up_sessions_stay_bounded_and_slow_the_address() -> None:
    throttle = SignInThrottle(Clock(), max_tracked=100)
    waits = [fail(throttle, f"made-up-{n}") for n in range(5_000)]
    assert waits[:ADDRESS_ALLOWANCE] == [0.0] * ADDRESS_ALLOWANCE, "the allowance is free"
    assert waits[ADDRESS_ALLOWANCE + 1] > 0.0, "past the allowance every new session waits"
    assert max(waits) == MAX_WAIT
    assert waits[-1] == MAX_WAIT
    assert throttle.tracked <= 100 + 1, "the sessions' table is bounded; one address"


def test_a_person_beside_a_guesser_waits_at_most_two_seconds_and_not_after_it_stops() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock)
    for n in range(2_000):
        fail(throttle, f"guess-{n}")
        clock.now += 0.01
    assert succeed(throttle, "colleague") == MAX_WAIT, "signs in, late, while the guessing goes on"
    # However long it guessed, the address is forgiven soon after the guessing stops.
    clock.now += 15 * FORGIVE_SECONDS
    assert succeed(throttle, "colleague") == 0.0
    assert fail(throttle, "guess-1999") == 0.0


async def test_web_sessions_signing_in_through_one_address_are_throttled_apart(
    db_path: Path, recorded_waits: list[float]
) -> None:
    """Against the real server: the handshakes of two browser sessions of one web host, each
    naming its own console, as every `warroom --sign-in` process does."""
    good = await create_user(db_path, "alice")
    async with await start_node(db_path, TEST_SETTINGS) as node:
        node.auth.throttle = SignInThrottle(Clock())

        async def sign_in(token: str, console: str) -> None:
            headers = {"Authorization": f"Bearer {token}", CONSOLE_HEADER: console}
            async with connect(node.url, additional_headers=headers):
                pass

        for n in range(6):
            with pytest.raises(InvalidStatus):
                await sign_in(f"wr_typo{n}", "session-a")
        assert recorded_waits == [0.0, 0.1, 0.2, 0.4, 0.8, 1.6]
        recorded_waits.clear()
        await sign_in(good, "session-b")
        with pytest.raises(InvalidStatus):
            await sign_in("wr_typo", "session-b")
        # (The right token is answered at once, without even a wait of 0: sync21.)
        assert recorded_waits == [0.0], "session b is not slowed by session a's typos"
        assert node.auth.throttle.failures("127.0.0.1", "session-a")[0] == 6, "not wiped"


async def test_a_consoles_handshakes_name_its_process_and_processes_differ(db_path: Path) -> None:
    await create_user(db_path, "alice")
    async with await start_node(db_path, TEST_SETTINGS) as node:
        node.auth.throttle = SignInThrottle(Clock())
        client = WarroomClient(node.url, "wr_wrong", reconnect=False)
        with pytest.raises(AuthError):
            await client.start(wait=True)
        await client.close()
        assert node.auth.throttle.failures("127.0.0.1", CONSOLE_ID) == (1, 1)
    other = subprocess.run(
        [sys.executable, "-c", "from warroom.client.session import CONSOLE_ID; print(CONSOLE_ID)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert other
    assert other != CONSOLE_ID, "another browser session's console is another console"
