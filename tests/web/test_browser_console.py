"""The console in a real browser: `warroom web` served to Debian's headless Chromium, a person
signing in with their own token, and the incident live on the page as the CLI writes to it."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

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
from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]


async def test_browser_signs_in_with_a_token_and_shows_the_incident_live(
    server: WarroomNode, add_user: AddUser, tmp_path: Path
) -> None:
    token = await add_user("alice")
    title = f"Checkout latency {os.getpid()}"
    declared = await warroom("declare", "--title", title, "--sev", "1", server=server, token=token)
    assert declared.code == 0, declared.err
    incident = declared.out.strip().split()[-1]

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
