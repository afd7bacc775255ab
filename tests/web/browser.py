"""A real `warroom web` process and Debian's headless Chromium driven by Playwright, reading the
console's screen as text.

textual-serve draws with xterm.js on a WebGL or canvas renderer, so the screen's text is not in
the DOM. The page's terminal object is caught as it is created (textual-serve keeps it in a local
variable) and its buffer is read with xterm.js's public API, `buffer.active.getLine(y)`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.core.serverproc import free_port

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    // textual-serve's session object does `this.terminal = new Terminal(...)`: keep that
    // terminal where the test can read it, and make it a plain property of its owner again.
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && value.buffer.active) window.warroomTerminal = value;
  },
});
"""
"""Runs before the page's scripts: keeps the xterm.js Terminal as `window.warroomTerminal`."""

SCREEN_TEXT = """() => {
  const terminal = window.warroomTerminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active;
  const lines = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""
"""The terminal's visible rows as text, one line each."""

SHOWS = f"(wanted) => ({SCREEN_TEXT})().includes(wanted)"

WAIT_MS = 20_000
"""How long a screen may take to show what a test waits for before the test fails."""


@asynccontextmanager
async def web_console(
    server_url: str, *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> AsyncIterator[str]:
    """`warroom web --server server_url` on a free port; yields the page's URL once it serves.

    Args:
        env: Variables added to this process's environment (the host user's, as it were).
        cwd: Its working folder, and its sessions'.
    """
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom", "web", "--server", server_url, "--port", str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        # The server prints one line once its page is up; anything else first is an error.
        async with asyncio.timeout(20):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith("warroom web: "), line + (await proc.stdout.read()).decode()
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.returncode is None:
            proc.terminate()
        async with asyncio.timeout(20):
            await proc.communicate()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (installed by scripts/install-chromium)."""
    executable = shutil.which("chromium")
    assert executable, "no chromium on PATH: run `sudo scripts/install-chromium`"
    async with async_playwright() as playwright:
        # --no-sandbox: the tests run as root, and Chromium's sandbox refuses root.
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_console(browser: Browser, url: str) -> Page:
    """A new page on the web console, with its terminal readable."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.add_init_script(CATCH_TERMINAL)
    await page.goto(url)
    return page


async def screen(page: Page) -> str:
    text: str = await page.evaluate(SCREEN_TEXT)
    return text


async def wait_for_text(page: Page, wanted: str) -> str:
    """Wait until the console's screen shows `wanted`; returns the screen then."""
    try:
        await page.wait_for_function(SHOWS, arg=wanted, timeout=WAIT_MS)
    except PlaywrightTimeout:
        shown = await screen(page)
        raise AssertionError(f"the browser never showed {wanted!r}; it shows:\n{shown}") from None
    return await screen(page)


async def type_into_console(page: Page, text: str) -> None:
    """Type as a person at the keyboard would, into the terminal's input."""
    await page.focus(".xterm-helper-textarea")
    await page.keyboard.type(text)


async def press(page: Page, key: str) -> None:
    await page.focus(".xterm-helper-textarea")
    await page.keyboard.press(key)


async def keep_screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """Save the page as `tmp_path/name` and as test-artifacts/name (kept across runs, ignored
    by git); prints where."""
    kept = Path(__file__).resolve().parents[2] / "test-artifacts" / name
    kept.parent.mkdir(exist_ok=True)
    await page.screenshot(path=str(tmp_path / name))
    shutil.copyfile(tmp_path / name, kept)
    print(f"screenshot: {kept}")
    return kept
