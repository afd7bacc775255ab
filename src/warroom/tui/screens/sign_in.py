"""The sign-in screen: asks for a warroom token when the console has none (a browser session).

The token is typed into a password field, handed to `connect` and kept in memory only; the
server decides who it belongs to and what that person may do. A refused token or an unreachable
server is said on the screen, and the person can try again. With an idle timeout (what
`warroom web` gives each browser session), a screen nobody types into for that long ends the
console, so a browser left at sign-in does not hold its session and its process forever.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Static

from warroom.client.session import AuthError, ClientError, WarroomClient
from warroom.tui.commands_table import key_hint
from warroom.tui.safe_text import clean

MAX_TOKEN = 200
"""Longer than any token the server makes (about 50 characters); a paste past it is cut."""

Connect = Callable[[str], Awaitable[WarroomClient]]
"""Starts a client with this token; raises `ClientError` when the server refuses or is away."""


class SignInScreen(Screen[WarroomClient]):
    """Asks for a token until the server accepts one; returns the started client."""

    def __init__(
        self, server_url: str, connect: Connect, *, idle_timeout: float | None = None
    ) -> None:
        """`idle_timeout`: seconds without typing after which the console ends (None: never)."""
        super().__init__(classes="dialog-screen")
        self._server_url = server_url
        self._connect = connect
        self._idle_timeout = idle_timeout
        self._idle: Timer | None = None
        self._error_line = Static("", id="sign-in-error", classes="dialog-error")
        self._keys_line = Static("", id="sign-in-keys")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="sign-in") as box:
            box.border_title = "Sign in to warroom"
            yield Static(Text(f"Server: {clean(self._server_url)}"))
            yield Static(
                "Sign in with your own token: the server's admin creates it with "
                "`warroom user add NAME`. It is kept in this session only.",
                markup=False,
            )
            yield Label("Your warroom token")
            yield Input(password=True, placeholder="token", max_length=MAX_TOKEN, id="token")
            yield self._error_line
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in-button")
            # No footer on this screen: the keys that matter are said here.
            yield self._keys_line

    def on_mount(self) -> None:
        self.query_one("#token", Input).focus()
        # After the user's keymap, which may have moved the key that quits.
        quit_key = key_hint(self, "app.quit-anywhere")
        self._keys_line.update(Text(f"Enter signs in · {clean(quit_key)} quits", style="dim"))
        if self._idle_timeout is not None:
            self._idle = self.set_timer(self._idle_timeout, self._end_idle_session)

    @on(Input.Changed, "#token")
    def _still_there(self) -> None:
        if self._idle is not None:
            self._idle.reset()

    def _end_idle_session(self) -> None:
        self.app.exit(
            message=f"warroom: nobody signed in for {self._idle_timeout:g} s; session ended"
        )

    @on(Button.Pressed, "#sign-in-button")
    @on(Input.Submitted, "#token")
    def sign_in(self) -> None:
        token = self.query_one("#token", Input).value.strip()
        if not token:
            self._show_error("Type your token, then Enter.")
            return
        if not (token.isascii() and token.isprintable()):
            # No token holds such characters, and the handshake's error about them would
            # repeat the typed token on the screen.
            self.query_one("#token", Input).value = ""
            self._show_error("That is not a token: tokens are letters, digits and - or _.")
            return
        self._show_error("Signing in…")
        self._set_busy(busy=True)
        self._try_token(token)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def _try_token(self, token: str) -> None:
        try:
            client = await self._connect(token)
        except AuthError:
            self._refused("The server refused this token. Check it and try again.")
            return
        except ClientError as exc:
            self._refused(f"Cannot sign in: {exc}. Try again.")
            return
        self.dismiss(client)

    def _refused(self, why: str) -> None:
        token = self.query_one("#token", Input)
        token.value = ""
        self._set_busy(busy=False)
        token.focus()
        self._show_error(why)

    def _set_busy(self, *, busy: bool) -> None:
        if self._idle is not None:
            # A sign-in being tried is bounded on its own (`SIGN_IN_PATIENCE`); after it, the
            # person gets the whole idle time again to read why it failed and retry.
            if busy:
                self._idle.pause()
            else:
                self._idle.reset()
                self._idle.resume()
        self.query_one("#token", Input).disabled = busy
        self.query_one("#sign-in-button", Button).disabled = busy

    def _show_error(self, message: str) -> None:
        self._error_line.update(Text(clean(message)))
