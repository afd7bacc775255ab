"""Which server the console talks to: a named server only, said plainly when it cannot be
reached; the bare local mode on a private Unix socket, one per user (per WARROOM_HOME)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import stat
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from textual.widgets import Static

from warroom import local
from warroom.client.session import AuthError, WarroomClient
from warroom.client.updates import ConnectionStatus
from warroom.local import local_server, saved_local_token
from warroom.node import start_node
from warroom.paths import default_db, local_socket, local_token_file, private_dir
from warroom.protocol.endpoint import unix_url
from warroom.server.app import ServerSettings
from warroom.settings import ConfigError
from warroom.tui.launch import open_console
from warroom.tui.screens.main import MainScreen
from warroom.users import create_user

from ..support.cli import warroom as run_cli
from .harness import settle, until


def console_args(server: str | None, token: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(server=server, token=token, token_file=None, incident=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def no_configured_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WARROOM_SERVER", "WARROOM_TOKEN", "WARROOM_TOKEN_FILE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)


async def test_a_named_server_that_does_not_answer_is_said_and_retried_never_replaced(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    db = tmp_path / "shared.db"
    token = await create_user(db, "alice")
    async with AsyncExitStack() as stack:
        app = await open_console(console_args(url, token), stack, demo=False)
        client = app.client
        async with app.run_test(size=(80, 24)) as pilot:
            await until(client, lambda: client.status is ConnectionStatus.RECONNECTING)
            await pilot.pause()
            status = str(app.screen.query_one("#picker-status", Static).content)
            assert status.startswith(f"○ cannot reach {url} · retrying")
            # No private server, no private database, no local token: one war room only.
            assert not default_db().exists()
            assert not local_token_file().exists()
            assert not local_socket().exists()

            # Typed while the server is unreachable: kept in the outbox...
            app.screen.query_one("#declare-title").focus()
            await pilot.press(*["space" if c == " " else c for c in "Ledger down"], "enter")
            await until(client, lambda: client.unsent == 1)
            await pilot.pause()
            assert "1 unsent" in str(app.screen.query_one("#picker-status", Static).content)

            # ...and delivered to the named server once it comes up.
            async with await start_node(db, ServerSettings(port=port)) as node:
                await until(client, lambda: client.unsent == 0, timeout=20)
                assert [s.incident.title for s in node.hub.states] == ["Ledger down"]
                await until(client, lambda: isinstance(app.screen, MainScreen))
                await pilot.pause()
                assert isinstance(app.screen, MainScreen)
                await client.close()


async def test_a_console_given_several_nodes_skips_a_dead_one_and_names_the_one_it_is_on(
    tmp_path: Path,
) -> None:
    db = tmp_path / "shared.db"
    token = await create_user(db, "alice")
    dead = f"ws://127.0.0.1:{free_port()}"
    async with (
        await start_node(db, ServerSettings(port=0)) as node,
        AsyncExitStack() as stack,
    ):
        app = await open_console(console_args(f"{dead},{node.url}", token), stack, demo=False)
        client = app.client
        async with app.run_test(size=(100, 30)) as pilot:
            await until(client, lambda: client.status is ConnectionStatus.CONNECTED)
            await pilot.pause()
            status = str(app.screen.query_one("#picker-status", Static).content)
            assert status.startswith(f"● connected to {node.url}")
            app.screen.query_one("#declare-title").focus()
            await pilot.press(*["space" if c == " " else c for c in "Ledger down"], "enter")
            await until(client, lambda: isinstance(app.screen, MainScreen))
            await pilot.pause()
            corner = str(app.screen.query_one("#header-connection", Static).content)
            assert corner == f"● connected\n127.0.0.1:{node.port}"
            await client.close()


async def test_the_bare_local_mode_serves_on_a_private_unix_socket(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        app = await open_console(console_args(None), stack, demo=False)
        sock = local_socket()
        assert app.client.url == unix_url(sock)
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            status = str(app.screen.query_one("#picker-status", Static).content)
            assert status.startswith("● connected")

            # The CLI of the same user finds the same server, with the local token.
            result = await run_cli("declare", "--title", "Disk full on db-1", "--sev", "2")
            assert result.code == 0, result.err
            incidents = await app.client.list_incidents()
            assert [i.title for i in incidents] == ["Disk full on db-1"]
            await app.client.close()


async def test_two_homes_get_two_independent_local_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoints = []
    async with AsyncExitStack() as stack:
        for home in ("one", "two"):
            monkeypatch.setenv("WARROOM_HOME", str(tmp_path / home))
            url, node = await local_server(default_db())
            assert node is not None  # nothing answered on this home's socket: started
            stack.push_async_callback(node.close)
            token = await create_user(default_db(), f"user-{home}")
            endpoints.append((url, token, default_db()))
        (url_one, token_one, db_one), (url_two, token_two, db_two) = endpoints
        assert url_one != url_two
        assert db_one != db_two
        # A home's server answers its own users, not the other home's.
        for url, token, refused in (
            (url_one, token_one, token_two),
            (url_two, token_two, token_one),
        ):
            client = WarroomClient(url, token, reconnect=False)
            await client.start()
            assert client.user is not None
            await client.close()
            stranger = WarroomClient(url, refused, reconnect=False)
            with pytest.raises(AuthError, match="refused the token"):
                await stranger.start()
        # A second console of the same home finds the running server instead of starting one.
        assert await local_server(db_two) == (url_two, None)


async def test_quitting_the_console_that_runs_the_local_server_says_at_once_who_still_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_HOME", str(tmp_path / "home"))
    # Waiting out the patience (as it did whenever another console was connected) now fails
    # the test instead of leaving the terminal blank for a while.
    monkeypatch.setattr(local, "OWN_CONNECTION_PATIENCE", 600.0)
    said: list[str] = []
    told = asyncio.Event()

    def say(line: str) -> None:
        said.append(line)
        told.set()

    monkeypatch.setattr(local, "_to_stderr", say)
    stack = AsyncExitStack()
    app = await open_console(console_args(None), stack, demo=False)
    token = saved_local_token()
    assert token is not None
    other = WarroomClient(app.client.url, token)
    await other.start()

    quitting = asyncio.create_task(stack.aclose())
    async with asyncio.timeout(30):
        await told.wait()
    assert said == [
        "warroom: 1 other console uses the local server started here.",
        "warroom: it keeps serving until they quit; Ctrl+C stops it now.",
    ]
    assert not quitting.done()  # the server stays for the other console

    await other.close()
    await quitting
    assert said[-1] == "warroom: the last console left; the local server stopped."


def test_a_loose_socket_directory_is_made_private_and_a_file_in_its_place_refused(
    tmp_path: Path,
) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    private_dir(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700

    squatted = tmp_path / "squatted"
    squatted.write_text("")
    with pytest.raises(ConfigError, match="is not a directory"):
        private_dir(squatted)
    link = tmp_path / "link"
    link.symlink_to(loose)
    with pytest.raises(ConfigError, match="is not a directory"):
        private_dir(link)


def test_a_socket_path_too_long_for_the_kernel_goes_to_a_private_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_HOME", str(tmp_path / ("deep" * 30)))
    sock = local_socket()
    assert len(str(sock)) <= 108
    private_dir(sock.parent)
    for directory in (sock.parent, sock.parent.parent):
        info = directory.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700
