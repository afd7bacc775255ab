"""The keys people bring from k9s, lazygit, htop and posting: help, quit, Esc, j/k, the footer,
the palette and the screenshot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Input, OptionList, Static
from textual.widgets._footer import FooterKey

from warroom.config import AlertmanagerSettings, PrometheusSettings, ServerConfig
from warroom.tui.app import WarroomApp
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.main import MainScreen
from warroom.tui.screens.severity_dialog import SeverityDialog
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.timeline_view import TimelineView

from .conftest import Notice
from .harness import Warroom, settle


@pytest.fixture
def server_config() -> ServerConfig:
    """A server offering triage and metrics (never polled: the harness's clock is injected):
    the footer and the help list every key a full server offers."""
    return ServerConfig(
        alertmanager=AlertmanagerSettings(url="http://127.0.0.1:9"),
        prometheus=PrometheusSettings(url="http://127.0.0.1:9"),
    )


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_question_mark_and_f1_open_help_listing_the_command_table(
    warroom: Warroom, incident: int, key: str
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=120, file=io.StringIO(), record=True)
        for static in app.screen.query(".help-table").results(Static):
            console.print(static.content)
        shown = console.export_text()
        assert "Offer the Incident Commander role to someone" in shown
        assert "Quit the console, even while typing or with a dialog open" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


@pytest.mark.parametrize("key", ["q", "question_mark", "escape"])
async def test_q_question_mark_and_escape_close_the_help_which_says_so(
    warroom: Warroom, incident: int, key: str
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # At 80x24 the list covers the footer: its own frame names the keys that close it.
        subtitle = app.screen.query_one("#help-dialog").border_subtitle
        assert subtitle == "j/k scroll · esc, q or ? closes"
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.is_running  # q closes the help, as in a pager; it does not quit from there


async def test_q_quits(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_escape_leaves_the_search_box_so_hotkeys_work_again(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "r", "o", "l", "l")
        assert app.focused is app.screen.query_one("#timeline-search", Input)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.focused, TimelineView)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SeverityDialog)
        assert app.screen_stack[-2].query_one("#timeline-search", Input).value == "roll"


async def test_j_and_k_move_in_the_timeline_and_the_checklist(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(TimelineView)
        last = view.cursor
        await pilot.press("k", "k")
        assert view.cursor == last - 2
        await pilot.press("j")
        assert view.cursor == last - 1

        checklist = app.screen.query_one(ChecklistPane)
        checklist.focus()
        await pilot.press("j", "j")
        assert checklist.cursor_row == 2
        await pilot.press("k")
        assert checklist.cursor_row == 1


async def test_the_footer_fits_160_columns(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)  # the IC is offered the most keys
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        keys = list(app.screen.query(FooterKey).results(FooterKey))
        assert {key.description for key in keys} >= {"Quit", "Help", "Resolve", "Write"}
        for key in keys:
            assert key.region.right <= 160, key.description
            assert key.region.width > 0, key.description


def _footer(app: WarroomApp) -> list[str]:
    """The footer's keys as drawn, left to right, each checked to be wholly on screen."""
    keys = sorted(app.screen.query(FooterKey).results(FooterKey), key=lambda k: k.region.x)
    width = app.size.width
    for key in keys:
        assert key.region.width > 0, key.description
        assert key.region.right <= width, key.description
    return [f"{key.key_display} {key.description}" for key in keys]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("alice", ["? Help", "i Write", "u Update", "c Comms", "s Severity", "p Phase"]),
        ("bob", ["? Help", "i Write", "u Update", "c Comms", "end Follow", "e Public"]),
        # An observer's few keys all fit: the usual order, help and quit included.
        ("erin", ["end Follow", "c Comms", "? Help", "q Quit", "^p palette"]),
    ],
    ids=["ic", "cl", "observer"],
)
async def test_at_80_columns_the_footer_shows_help_and_the_roles_most_used_keys(
    warroom: Warroom, incident: int, user: str, expected: list[str]
) -> None:
    app = await warroom.app(user, incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert _footer(app)[: len(expected)] == expected
        assert _footer(app)[-1] == "^p palette"


async def test_the_footer_chooses_again_when_the_terminal_is_resized(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(200, 45)) as pilot:
        await settle(pilot)
        wide = _footer(app)
        assert wide[0] == "end Follow"
        assert {"? Help", "q Quit"} <= set(wide)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = _footer(app)
        assert narrow[0] == "? Help"
        assert len(narrow) < len(wide)


async def test_the_palette_lists_theme_once(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await palette.workers.wait_for_complete()
        await pilot.pause()
        options = palette.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert sum(1 for prompt in prompts if prompt.startswith("Theme") and ":" not in prompt) == 1


async def test_screenshot_without_a_downloads_folder_saves_here_and_says_where(
    warroom: Warroom,
    incident: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    notices: list[Notice],
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "nohome" / "Downloads"))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_screenshot()
        await pilot.pause()
    saved = list(here.glob("*.svg"))
    assert len(saved) == 1
    assert Notice("Screenshot saved", str(saved[0]), "information") in notices
