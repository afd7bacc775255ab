"""The war-room app and `make_app`, the one factory both the CLI and the tests build it with."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from platformdirs import user_downloads_path
from pydantic import ValidationError
from textual import events, on, work
from textual.app import App
from textual.worker import Worker

from warroom.client.session import CommandRefused, WarroomClient
from warroom.client.updates import ClientUpdate
from warroom.domain.commands import AddEntry, Command, PostStatusUpdate
from warroom.protocol.frames import Ack
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.messages import (
    ConnectionUpdated,
    IncidentUpdated,
    MetricsUpdated,
    PresenceUpdated,
    TriageUpdated,
    WriteFailed,
)
from warroom.tui.offline_notices import Notice as OfflineNotice
from warroom.tui.offline_notices import OfflineNotices
from warroom.tui.palette import IncidentCommands, ThemeCommands, WarroomCommands
from warroom.tui.pending import PendingCommand, PendingEntries, PendingEntry
from warroom.tui.refusals import describe_refusal
from warroom.tui.relay import message_for
from warroom.tui.safe_text import clean
from warroom.tui.screens.dialog_base import DialogScreen
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.picker import PickerScreen
from warroom.tui.screens.quit_dialog import QuitDialog
from warroom.tui.screens.sign_in import Connect, SignInScreen
from warroom.tui.screens.triage import TriageScreen
from warroom.tui.screens.type_ahead import KeyOrigins
from warroom.tui.theme_files import (
    DEFAULT_THEME,
    ThemeCatalog,
    load_themes,
    warroom_variable_defaults,
)
from warroom.tui.triage_format import open_count
from warroom.tui.widgets.whole_cell_scrollbar import draw_every_scroll_bar_in_whole_cells
from warroom.tui.worker_errors import report_failed_worker

Clock = Callable[[], datetime]


def local_now() -> datetime:
    """Now, in the machine's local zone: the zone the panes show times in."""
    return datetime.now(UTC).astimezone()


class WarroomApp(App[None]):
    """One console onto a warroom server: an incident screen, or the picker to choose one."""

    TITLE = "warroom"
    CSS_PATH = [
        "styles/app.tcss",
        "styles/main.tcss",
        "styles/picker.tcss",
        "styles/dialogs.tcss",
        "styles/views.tcss",
        "styles/projector.tcss",
        "styles/replay.tcss",
    ]
    COMMANDS = App.COMMANDS | {WarroomCommands, IncidentCommands, ThemeCommands}
    BINDINGS = bindings_for(Scope.APP)

    client: WarroomClient
    """The started client; the app never starts or closes it (the launcher owns it). Set from
    the start, or once the sign-in screen has one."""

    def __init__(
        self,
        client: WarroomClient | None,
        *,
        sign_in: tuple[str, Connect] | None = None,
        sign_in_idle: float | None = None,
        catalog: ThemeCatalog,
        incident_id: int | None,
        theme: str | None,
        keymap: dict[str, str] | None,
        clock: Clock,
    ) -> None:
        # Read by `get_theme_variable_defaults` during `App.__init__`, so it is set first: Textual
        # themes without severity colours (nord, gruvbox...) borrow the default theme's.
        self._variable_defaults = warroom_variable_defaults(catalog)
        super().__init__()
        # Eighth-block thumb ends read as glitches on a projector and in some fonts.
        draw_every_scroll_bar_in_whole_cells()
        self.clock = clock
        """Source of "now" for elapsed times, countdowns and back-dating; frozen in tests."""
        self.pending = PendingEntries()
        """Entries posted from this console and not yet committed."""
        self._restored: set[str] = set()
        """Ids of the pending entries the outbox kept from an earlier run."""
        self._offline_notices = OfflineNotices()
        """Says when a change is kept for later, and when the kept ones got through."""
        self._sign_in = sign_in
        """The server and how to connect to it with a typed token, when there is no client yet."""
        self._sign_in_idle = sign_in_idle
        """Seconds the sign-in screen waits for typing before the console ends (None: ever)."""
        self._signed_in = False
        self._key_origins = KeyOrigins()
        self.theme_descriptions: dict[str, str] = {}
        """Loaded war-room themes by name, for the palette."""
        self._start_incident = incident_id
        self._warnings = list(catalog.problems)
        for theme_file in catalog.themes.values():
            self.register_theme(theme_file.to_theme())
            self.theme_descriptions[theme_file.name] = theme_file.description
        wanted = theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._warnings.append(f"no theme named {wanted!r}; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        if keymap:
            self.set_keymap(keymap)
        if client is not None:
            self._attach_client(client)

    def _attach_client(self, client: WarroomClient) -> None:
        self.client = client
        self._signed_in = True
        self._show_unsent_entries()
        client.add_listener(self._relay_client_update)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._key_origins.read(event, self.screen)
            if isinstance(self.screen, PickerScreen):
                self.screen.key_read(event)
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        # Runs before Textual's own key handling (the bindings): a key typed before the dialog
        # now on top opened is typed into it, not taken as one of its keys (see type_ahead).
        screen = self.screen
        if isinstance(screen, DialogScreen) and self._key_origins.typed_before(event, screen):
            event.prevent_default()
            screen.type_ahead.take(event)
        elif isinstance(screen, MainScreen) and not self._key_origins.typed_before(event, screen):
            screen.explain_key_not_offered(event.key)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(getattr(self, "_variable_defaults", {}))

    @property
    def start_incident(self) -> int | None:
        """The incident the console opens on, if it was given one."""
        return self._start_incident

    def on_mount(self) -> None:
        for warning in self._warnings:
            self.notify(clean(warning), title="Themes", severity="warning", markup=False)
        self.set_interval(1.0, self._tick)
        if not self._signed_in and self._sign_in is not None:
            server_url, connect = self._sign_in
            self.push_screen(
                SignInScreen(server_url, connect, idle_timeout=self._sign_in_idle),
                self._open_after_sign_in,
            )
            return
        self._open_first_screen()

    def _open_after_sign_in(self, client: WarroomClient | None) -> None:
        if client is None:  # the sign-in screen only returns once a token was accepted
            return
        self._attach_client(client)
        self._open_first_screen()

    def _open_first_screen(self) -> None:
        self.follow_triage()
        if self._start_incident is None:
            self.show_incident_picker()
        else:
            self.open_incident(self._start_incident)

    # --- client updates become messages -------------------------------------------------------

    def _relay_client_update(self, update: ClientUpdate) -> None:
        """Called by the client on this loop; posts a message and returns at once."""
        message = message_for(update, self.pending)
        if message is not None:
            self.post_message(message)

    def _incident_screens(self, incident_id: int | None = None) -> list[MainScreen]:
        """The incident screens in the stack (only those showing `incident_id`, if given)."""
        return [
            s
            for s in self.screen_stack
            if isinstance(s, MainScreen) and incident_id in (None, s.incident_id)
        ]

    def on_incident_updated(self, message: IncidentUpdated) -> None:
        for screen in self._incident_screens(message.incident_id):
            screen.sync_from_client()

    def on_presence_updated(self, message: PresenceUpdated) -> None:
        for screen in self._incident_screens(message.incident_id):
            screen.sync_presence()

    def on_metrics_updated(self, message: MetricsUpdated) -> None:
        for screen in self._incident_screens(message.incident_id):
            screen.sync_metrics()

    def on_triage_updated(self, _message: TriageUpdated) -> None:
        triage = self.client.triage
        waiting = open_count(triage)
        for screen in self.screen_stack:
            if isinstance(screen, TriageScreen):
                screen.triage = triage
            elif isinstance(screen, PickerScreen):
                screen.open_alerts = waiting

    def on_connection_updated(self, message: ConnectionUpdated) -> None:
        info = ConnectionInfo(
            message.status, message.unsent, self.client.url, len(self.client.urls)
        )
        if self._restored:
            # A restored entry the server had already stored is acknowledged without a new
            # event; it is settled once the client no longer holds it.
            waiting = {frame["id"] for frame in self.client.pending_frames}
            done = self._restored - waiting
            self._restored -= done
            if self.pending.settle(done):
                for incident_screen in self._incident_screens():
                    incident_screen.sync_from_client()
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen | PickerScreen):
                screen.connection = info
        self._show_offline_notice(self._offline_notices.connection(message.status, message.unsent))

    def _show_offline_notice(self, notice: OfflineNotice | None) -> None:
        if notice is not None:
            self.notify(notice.message, title=notice.title, severity=notice.severity, markup=False)

    def on_write_failed(self, message: WriteFailed) -> None:
        # Nothing changed on the server, and state only changes through its events, so showing
        # the refusal is all there is to do; the pending row (if any) disappears with the sync.
        notice = describe_refusal(message.code, message.message)
        self.notify(notice.message, title=notice.title, severity="error", markup=False)
        for screen in self._incident_screens():
            screen.sync_from_client()

    def _tick(self) -> None:
        now = self.clock()
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen | TriageScreen):
                screen.now = now

    # --- keys of every screen -----------------------------------------------------------------

    def action_show_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(first=getattr(self.screen, "HELP_SCOPE", None)))

    async def action_quit(self) -> None:
        unsent = self.client.unsent if self._signed_in else 0
        # Asked once: the same key again, with the question open, quits.
        if not unsent or isinstance(self.screen, QuitDialog):
            self.exit()
            return
        self.push_screen(QuitDialog(unsent), self._quit_if_confirmed)

    def _quit_if_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self.exit()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        if self.is_web:
            # In a browser the host's folders are not the person's: the browser downloads it.
            self.deliver_screenshot(filename)
            return
        # Textual saves to ~/Downloads and fails where there is none (servers, containers):
        # fall back to the current directory, and say where the file went.
        folder = Path(path) if path else user_downloads_path()
        if not folder.is_dir():
            folder = Path.cwd()
        try:
            saved = self.save_screenshot(filename, str(folder))
        except OSError as exc:
            self.notify(clean(str(exc)), title="Screenshot not saved", severity="error",
                        markup=False)  # fmt: skip
            return
        self.notify(clean(saved), title="Screenshot saved", markup=False)

    # --- writes -------------------------------------------------------------------------------

    def send(self, command: Command) -> asyncio.Future[Ack]:
        self._show_offline_notice(self._offline_notices.sent(command, self.client.status))
        future = self.client.submit(command)
        future.add_done_callback(self._report_send_failure)
        return future

    def _report_send_failure(self, future: asyncio.Future[Ack]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        # Refusals arrive as `WriteRefused` too and are shown there; this catches the client
        # giving up (bad token, server gone for good).
        if error is not None and not isinstance(error, CommandRefused):
            self.notify(clean(str(error)), title="Not sent", severity="error", markup=False)

    def post_entry(self, command: PendingCommand) -> None:
        author = self.client.user or "me"
        self.pending.add(PendingEntry(command, submitted_at=self.clock(), author=author))
        future = self.send(command)
        future.add_done_callback(lambda _: self._settle_entry(command))
        self.post_message(IncidentUpdated(command.incident_id))

    def _show_unsent_entries(self) -> None:
        """Entries the outbox kept from an earlier run show at once, as not sent yet; they are
        settled like any other when the server commits them."""
        author = self.client.user or "me"
        for frame in self.client.pending_frames:
            kinds: dict[object, type[PendingCommand]] = {
                "add_entry": AddEntry,
                "post_status_update": PostStatusUpdate,
            }
            model = kinds.get(frame.get("type"))
            if model is None:
                continue
            try:
                command = model.model_validate(frame)
            except ValidationError:
                continue  # the server will refuse it, and the refusal is shown then
            submitted_at = command.typed_at or self.clock()
            self.pending.add(PendingEntry(command, submitted_at=submitted_at, author=author))
            self._restored.add(command.id)

    def _settle_entry(self, command: PendingCommand) -> None:
        if self.pending.settle([command.id]):
            self.post_message(IncidentUpdated(command.incident_id))

    # --- incidents ----------------------------------------------------------------------------

    def open_incident(self, incident_id: int) -> None:
        screen = MainScreen(self, incident_id)
        # Keep one incident screen at most: the one asked for replaces the picker and the old one.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        self.follow_incident(incident_id)

    def show_incident_picker(self, *, declare: bool = False) -> None:
        if isinstance(self.screen, PickerScreen):
            if declare:
                self.screen.action_focus_declare_form()
            return
        self.push_screen(PickerScreen(self, declare=declare))

    def show_triage(self) -> None:
        if not isinstance(self.screen, TriageScreen):
            self.push_screen(TriageScreen(self))

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def follow_triage(self) -> None:
        """Follow the triage list for this console's lifetime (the client resubscribes after a
        reconnect), so the picker can count waiting alerts and the view opens filled."""
        await self.client.follow_triage()

    @work(exclusive=True, group="follow", exit_on_error=False)
    async def follow_incident(self, incident_id: int) -> None:
        for followed in list(self.client.states):
            if followed != incident_id:
                await self.client.unfollow(followed)
        try:
            await self.client.follow(incident_id)
        except CommandRefused as exc:
            self.notify(clean(exc.message), title=f"Cannot open incident {incident_id}",
                        severity="error", markup=False)  # fmt: skip
            self.show_incident_picker()
            return
        self.post_message(IncidentUpdated(incident_id))
        self.post_message(PresenceUpdated(incident_id))
        # After the incident is drawn, not before: the collection below takes a moment.
        self.call_after_refresh(self._freeze_long_lived)

    def _freeze_long_lived(self) -> None:
        """Move everything alive now out of reach of the cyclic garbage collector.

        A followed incident is tens of thousands of objects that live as long as the screen.
        Every automatic full collection walked all of them again: 75 ms with 10,000 entries, a
        frozen console in the middle of a burst of events. Frozen objects are still freed by
        reference counting; the unfreeze and collection first let what the previous incident
        left in cycles (its screen and widgets) go before the rest is frozen.
        """
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    @on(Worker.StateChanged)
    def report_failed_worker(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)


def make_app(
    client: WarroomClient,
    *,
    incident_id: int | None = None,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    clock: Clock | None = None,
) -> WarroomApp:
    """Build the war-room app around an already started client.

    Args:
        client: A started client; it may be connected, reconnecting or offline.
        incident_id: Open this incident; None shows the incident picker first.
        theme: A theme name from the theme folders (default `warroom-dark`).
        keymap: Binding id to keys, e.g. `{"severity.change": "ctrl+s"}` (see `commands_table`).
        clock: Timezone-aware "now"; times are shown in its zone. Defaults to local time.

    Returns:
        The app, ready for `run_async()` or `run_test()`.
    """
    return WarroomApp(
        client,
        catalog=load_themes(),
        incident_id=incident_id,
        theme=theme,
        keymap=keymap,
        clock=clock or local_now,
    )


def make_sign_in_app(
    server_url: str,
    connect: Connect,
    *,
    incident_id: int | None = None,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    clock: Clock | None = None,
    idle_timeout: float | None = None,
) -> WarroomApp:
    """Build the war-room app for a console without a token: it opens on the sign-in screen.

    Args:
        server_url: The server the token is for, shown on the sign-in screen.
        connect: Starts a client with a typed token, or raises `ClientError`; the app takes the
            first client it returns.
        idle_timeout: Seconds the sign-in screen waits without typing before the console ends
            (None: it waits for ever).
        incident_id, theme, keymap, clock: As for `make_app`.
    """
    return WarroomApp(
        None,
        sign_in=(server_url, connect),
        sign_in_idle=idle_timeout,
        catalog=load_themes(),
        incident_id=incident_id,
        theme=theme,
        keymap=keymap,
        clock=clock or local_now,
    )
