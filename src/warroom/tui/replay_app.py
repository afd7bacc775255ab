"""`warroom replay`: an app that shows one incident's replay and nothing else, from a log read off
the server or out of a JSON export; it holds no client, so it cannot write anywhere."""

from __future__ import annotations

import gc
from collections.abc import Sequence

from textual.app import App

from warroom.domain.events import Event
from warroom.domain.replay_index import ReplayIndex
from warroom.tui.app import WarroomApp, local_now
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.replay import ReplayScreen, TickSource
from warroom.tui.theme_files import DEFAULT_THEME, load_themes, warroom_variable_defaults


class ReplayApp(App[None]):
    """The replay screen on its own; leaving it quits."""

    TITLE = "warroom replay"
    CSS_PATH = WarroomApp.CSS_PATH
    BINDINGS = bindings_for(Scope.APP)

    def __init__(
        self,
        index: ReplayIndex,
        *,
        at: int | None,
        theme: str | None,
        ticks: TickSource | None = None,
    ) -> None:
        catalog = load_themes()
        # Read during `App.__init__`, as in the console: themes without severity colours.
        self._variable_defaults = warroom_variable_defaults(catalog)
        super().__init__()
        for theme_file in catalog.themes.values():
            self.register_theme(theme_file.to_theme())
        wanted = theme or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else "textual-dark"
        self.index = index
        """The incident's log, folded on demand."""
        self._at = at
        self._ticks = ticks

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(getattr(self, "_variable_defaults", {}))

    def on_mount(self) -> None:
        # The folded log and its checkpoints live as long as the app: keep the cyclic collector
        # from walking them again on every collection (as the console does for an incident).
        gc.collect()
        gc.freeze()
        screen = ReplayScreen(self.index, local_now().tzinfo, at=self._at, ticks=self._ticks)
        self.push_screen(screen, lambda _: self.exit())

    def action_show_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(first=Scope.REPLAY))


def make_replay_app(
    events: Sequence[Event] | ReplayIndex,
    *,
    at: int | None = None,
    theme: str | None = None,
    ticks: TickSource | None = None,
) -> ReplayApp:
    """The replay of the incident whose whole log is `events` (or that log already folded into
    an index), opened at event `at` (default: the last one); `ticks` delivers the frames while it
    plays (default: the app's timers).

    Raises:
        ProjectionError: the events do not make an incident.
    """
    index = events if isinstance(events, ReplayIndex) else ReplayIndex(events)
    return ReplayApp(index, at=at, theme=theme, ticks=ticks)
