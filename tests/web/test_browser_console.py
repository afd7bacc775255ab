"""The console in a real browser: `warroom web` served to Debian's headless Chromium, a person
signing in with their own token, and the incident live on the page as the CLI writes to it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Download

from tests.support.cli import warroom
from tests.web.browser import (
    chromium,
    keep_screenshot,
    open_console,
    press,
    type_into_console,
    wait_for_text,
    web_console,
)
from warroom.client.session import WarroomClient, new_id
from warroom.domain.commands import DeclareIncident
from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]


async def declare(server: WarroomNode, token: str, title: str, *, severity: int) -> str:
    """Declare an incident as the token's user (in this process: quicker than the CLI)."""
    client = WarroomClient(server.url, token)
    await client.start()
    try:
        ack = await client.execute(DeclareIncident(id=new_id(), title=title, severity=severity))
    finally:
        await client.close()
    return str(ack.incident_id)


async def test_browser_signs_in_with_a_token_and_shows_the_incident_live(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    token = await add_user("alice")
    title = f"Checkout latency {os.getpid()}"
    incident = await declare(server, token, title, severity=1)

    async with web_console(server.url) as url, chromium() as browser:
        page = await open_console(browser, url)
        await wait_for_text(page, "Sign in to warroom")
        await type_into_console(page, token)
        await press(page, "Enter")

        # Signed in as alice: the incident list shows the incident, Enter opens it.
        await wait_for_text(page, title)
        await wait_for_text(page, "Enter opens one")
        await press(page, "Enter")
        await wait_for_text(page, "declared the incident as SEV1")

        entry = f"rolled back payments-api {os.getpid()}"
        logged = await warroom("log", incident, entry, server=server, token=token)
        assert logged.code == 0, logged.err
        shown = await wait_for_text(page, entry)
        assert title in shown
        assert "alice" in shown
        await keep_screenshot(page, tmp_path, "web-console.png")


async def test_browser_refuses_a_bad_token_and_lets_the_person_retry(
    server: WarroomNode, add_user: AddUser
) -> None:
    host_token = await add_user("host-user")
    token = await add_user("bob")
    # The web server's own user has a token in its environment: no browser session gets it.
    async with (
        web_console(server.url, env={"WARROOM_TOKEN": host_token}) as url,
        chromium() as browser,
    ):
        page = await open_console(browser, url)
        await wait_for_text(page, "Sign in to warroom")
        await type_into_console(page, "not-a-token")
        await press(page, "Enter")
        refused = await wait_for_text(page, "The server refused this token")
        assert "Sign in to warroom" in refused
        assert "not-a-token" not in refused

        await type_into_console(page, token)
        await press(page, "Enter")
        await wait_for_text(page, "no incidents yet")


async def test_browser_export_downloads_the_postmortem_and_writes_nothing_on_the_host(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    token = await add_user("carol")
    title = f"Search index stale {os.getpid()}"
    incident = await declare(server, token, title, severity=2)
    host_folder = tmp_path / "web-host"
    host_folder.mkdir()

    async with web_console(server.url, cwd=host_folder) as url, chromium() as browser:
        page = await open_console(browser, url)
        # textual-serve opens each file in a new tab, which the browser turns into a download.
        downloads: asyncio.Queue[Download] = asyncio.Queue()
        page.context.on("page", lambda tab: tab.on("download", downloads.put_nowait))
        page.on("download", downloads.put_nowait)
        await wait_for_text(page, "Sign in to warroom")
        await type_into_console(page, token)
        await press(page, "Enter")
        await wait_for_text(page, "Enter opens one")
        await press(page, "Enter")
        await wait_for_text(page, "declared the incident as SEV2")
        await press(page, "Control+e")
        await wait_for_text(page, "Also write the HTML copy")
        await press(page, "Enter")

        async with asyncio.timeout(20):
            received = {(d := await downloads.get()).suggested_filename: d for _ in range(2)}
        markdown = f"incident-{incident}-postmortem.md"
        assert set(received) == {markdown, f"incident-{incident}-postmortem.html"}
        saved = Path(await received[markdown].path())
        assert title in saved.read_text(encoding="utf-8")
        await wait_for_text(page, "Post-mortem draft sent to your browser")

    assert list(host_folder.iterdir()) == []
