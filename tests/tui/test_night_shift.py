"""What a first-time on-call engineer at 3 a.m. tripped over (review ux6): the help that would
not scroll with j/k, text typed into a dialog's frame, and a SEV badge too faint to read on a
projector."""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.text import Text
from textual.color import Color
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.scrollbar import ScrollBar
from textual.widgets import Input, Select, Static
from textual.widgets._select import SelectCurrent

from warroom.client.session import new_id
from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import AddChecklistItem, AddEntry
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.tui.app import WarroomApp
from warroom.tui.offline_notices import OfflineNotices
from warroom.tui.screens.help_screen import HelpScreen
from warroom.tui.screens.role_dialog import RoleDialog
from warroom.tui.screens.severity_dialog import SeverityDialog
from warroom.tui.screens.status_update_dialog import StatusUpdateDialog
from warroom.tui.widgets.parts_line import PartsLine
from warroom.tui.widgets.scribe_input import ScribeInput
from warroom.tui.widgets.timeline_view import TimelineView

from .conftest import Notice
from .harness import Warroom, settle, static_text, timeline_lines, until, until_state

SHIPPED_THEMES = ("warroom-dark", "warroom-light", "warroom-contrast")
WCAG_AA = 4.5
"""The WCAG AA contrast ratio for normal text."""


def contrast(one: Color, other: Color) -> float:
    """The WCAG contrast ratio of two opaque colours."""

    def luminance(color: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_the_help_scrolls_with_j_k_g_and_shift_g_as_in_a_pager(
    warroom: Warroom, incident: int
) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-dialog", VerticalScroll)
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert box.scroll_target_y == 3
        await pilot.press("k")
        await pilot.pause()
        assert box.scroll_target_y == 2
        await pilot.press("G")
        await pilot.pause()
        assert box.scroll_target_y == box.max_scroll_y > 3
        await pilot.press("g")
        await pilot.pause()
        assert box.scroll_target_y == 0
        await pilot.press("space")
        await pilot.pause()
        assert box.scroll_target_y > 3


async def test_shift_tab_from_a_dialogs_first_field_reaches_a_field_not_its_frame(
    warroom: Warroom, incident: int
) -> None:
    # Shift+Tab from the severity list used to focus the dialog's scrolling frame, which shows
    # no cursor: the reason typed next went nowhere and the person had to type it again.
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SeverityDialog)
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#reason", Input)
        await pilot.press(*"db down")
        await pilot.pause()
        assert app.screen.query_one("#reason", Input).value == "db down"


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
async def test_the_sev_badge_is_readable_at_wcag_aa_in_every_shipped_theme(
    warroom: Warroom, incident: int, theme: str
) -> None:
    # The badge is what a room reads first off a projector; pale pink on pure red was 3.3:1.
    app = await warroom.app("alice", incident, theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        badge = app.screen.query_one("#sev-badge")
        for level in Severity:
            badge.set_class(True, f"sev{level.value}")
            for other in Severity:
                if other is not level:
                    badge.set_class(False, f"sev{other.value}")
            await pilot.pause()
            background = badge.styles.background
            text = background + badge.styles.color
            ratio = contrast(text, background)
            assert ratio >= WCAG_AA, f"{theme} {level.label}: {ratio:.2f}"


async def post_update_while_offline(
    warroom: Warroom, app: WarroomApp, pilot: Pilot[None], status: str
) -> None:
    """Stop the server, wait until the console knows, and post `status` from the update form."""
    await settle(pilot)
    await warroom.server.close()
    await until(app.client, lambda: app.client.status is not ConnectionStatus.CONNECTED)
    await pilot.press("u")
    dialog = app.screen
    assert isinstance(dialog, StatusUpdateDialog)
    dialog.query_one("#status", Input).value = status
    await pilot.press("enter")
    await settle(pilot)


async def test_an_update_posted_offline_says_it_is_kept_and_then_that_it_got_through(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    # The form closed as if the update were posted; only "1 unsent" in the header's corner
    # said otherwise, and nothing said when it finally went.
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await post_update_while_offline(warroom, app, pilot, "Rollback 60% done")
        client = app.client
        assert not isinstance(app.screen, StatusUpdateDialog)
        kept = [n for n in notices if n.title == "Kept, not sent yet"]
        assert len(kept) == 1
        assert "goes out by itself" in kept[0].message
        assert kept[0].severity == "warning"
        assert not [n for n in notices if n.title == "Back online"]

        await warroom.restart()
        await until_state(
            client, incident, lambda s: s.timeline[-1].kind is EntryKind.STATUS, timeout=20
        )
        await until(client, lambda: client.unsent == 0)
        await settle(pilot)
        back = [n for n in notices if n.title == "Back online"]
        assert back == [
            Notice(
                "Back online",
                "The change kept while the server was not answering has reached it.",
                "information",
            )
        ]


async def test_a_change_made_online_gets_no_offline_notice(
    warroom: Warroom, incident: int, notices: list[Notice]
) -> None:
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        dialog = app.screen
        assert isinstance(dialog, StatusUpdateDialog)
        dialog.query_one("#status", Input).value = "Rollback 60% done"
        await pilot.press("enter")
        await until_state(app.client, incident, lambda s: s.timeline[-1].kind is EntryKind.STATUS)
        await settle(pilot)
        titles = {n.title for n in notices}
        assert not titles & {"Kept, not sent yet", "Back online"}


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
async def test_the_scribe_lines_hint_is_readable_at_wcag_aa_in_every_shipped_theme(
    warroom: Warroom, incident: int, theme: str
) -> None:
    # "Write to the timeline (press i)" is how a newcomer learns to write; it was 2.7:1 in the
    # light theme and 3.3:1 in the projector one.
    app = await warroom.app("alice", incident, theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        scribe = app.screen.query_one(ScribeInput)
        assert "press i" in scribe.placeholder
        background = scribe.background_colors[1]
        hint = scribe.get_component_rich_style("input--placeholder").color
        assert hint is not None
        ratio = contrast(Color.from_rich_color(hint), background)
        assert ratio >= WCAG_AA, f"{theme}: {ratio:.2f}"


async def test_the_roster_marks_your_own_line(warroom: Warroom, incident: int) -> None:
    # dave, the Scribe, opens the incident: which role is his should not take reading names.
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await until(app.client, lambda: app.client.status is ConnectionStatus.CONNECTED)
        await settle(pilot)
        lines = static_text(app, "#roster-pane").splitlines()
        assert [line for line in lines if "(you)" in line] == ["Scribe    ● dave (you)"]


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
async def test_the_timeline_filters_text_is_readable_at_wcag_aa_in_every_shipped_theme(
    warroom: Warroom, incident: int, theme: str
) -> None:
    # "all kinds" and "search text, author or cid" are how a reader narrows a long timeline;
    # the light theme drew them in a grey under 4.5:1 on their field.
    app = await warroom.app("alice", incident, theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        kind = app.screen.query_one("#timeline-kind", Select)
        label = kind.query_one(SelectCurrent).query_one("#label", Static)
        drawn = label.rich_style  # the colours as drawn, "auto" colours worked out
        assert drawn.color is not None
        assert drawn.bgcolor is not None
        ratio = contrast(Color.from_rich_color(drawn.color), Color.from_rich_color(drawn.bgcolor))
        assert ratio >= WCAG_AA, f"{theme} kind filter: {ratio:.2f}"
        search = app.screen.query_one("#timeline-search", Input)
        hint = search.get_component_rich_style("input--placeholder").color
        assert hint is not None
        ratio = contrast(Color.from_rich_color(hint), search.background_colors[1])
        assert ratio >= WCAG_AA, f"{theme} search hint: {ratio:.2f}"


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
async def test_the_timelines_author_names_are_readable_at_wcag_aa_in_every_shipped_theme(
    warroom: Warroom, incident: int, theme: str
) -> None:
    # Who wrote an entry is read as often as what it says; the dark theme's violet was 4.1:1.
    app = await warroom.app("alice", incident, theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(TimelineView)
        author = view.get_component_rich_style("timeline--author").color
        assert author is not None
        ratio = contrast(Color.from_rich_color(author), view.background_colors[1])
        assert ratio >= WCAG_AA, f"{theme}: {ratio:.2f}"


async def test_the_assign_form_starts_on_the_role_list(warroom: Warroom, incident: int) -> None:
    # The focus started on the name, below the role list, so the role was never chosen.
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        assert dialog.query_one("#role", Select).has_focus
        await pilot.press("tab")
        assert dialog.query_one("#user", Input).has_focus


async def test_the_ic_handoff_form_starts_on_the_name(warroom: Warroom, incident: int) -> None:
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RoleDialog)
        assert dialog.query_one("#user", Input).has_focus


@pytest.mark.parametrize(
    ("user", "role"), [("dave", "Scribe"), ("alice", "IC"), ("erin", "observer")]
)
async def test_your_role_is_in_the_header_at_80x24(
    warroom: Warroom, incident: int, user: str, role: str
) -> None:
    # At 80 columns the roster, where "(you)" marks your line, is behind the side panes.
    app = await warroom.app(user, incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        elapsed = app.screen.query_one("#header-elapsed", PartsLine)
        drawn = elapsed.render()
        assert isinstance(drawn, Text)
        # "elapsed" shortens to the responders' "T+" where the whole does not fit.
        assert drawn.plain.startswith(("elapsed ", "T+"))
        assert drawn.plain.endswith(f" · you: {role}")
        assert drawn.cell_len <= elapsed.size.width


async def test_cannot_reach_server_and_retrying_are_whole_at_80x24(
    warroom: Warroom, incident: int
) -> None:
    # At 80 columns the corner read "○ cannot reach / server", and "retrying" was cut off.
    app = await warroom.app("dave", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        client = app.client
        await warroom.server.close()
        await until(client, lambda: client.status is ConnectionStatus.RECONNECTING)
        await pilot.press("i")
        await pilot.press("x", "enter")
        await settle(pilot)
        corner = app.screen.query_one("#header-connection")
        lines = static_text(app, "#header-connection").splitlines()
        assert lines == ["○ cannot reach server", "retrying · 1 unsent"]
        assert corner.content_region.width >= max(len(line) for line in lines)


async def test_an_update_posted_offline_shows_greyed_in_the_timeline_until_it_is_sent(
    warroom: Warroom, incident: int
) -> None:
    # Only a toast and "1 unsent" said the update was kept; the timeline did not show it.
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(160, 40)) as pilot:
        await post_update_while_offline(warroom, app, pilot, "Rollback 60% done")
        client = app.client
        waiting = [line for line in timeline_lines(app) if "Rollback 60% done" in line]
        assert len(waiting) == 1
        assert "STATUS" in waiting[0]
        assert "bob" in waiting[0]
        assert waiting[0].endswith("(not sent yet)")

        await warroom.restart()
        await until_state(
            client, incident, lambda s: s.timeline[-1].kind is EntryKind.STATUS, timeout=20
        )
        await until(client, lambda: client.unsent == 0)
        await settle(pilot)
        sent = [line for line in timeline_lines(app) if "Rollback 60% done" in line]
        assert len(sent) == 1
        assert "(not sent yet)" not in sent[0]


async def test_the_not_sent_yet_marker_stays_whole_at_80x24(
    warroom: Warroom, incident: int
) -> None:
    # At 80 columns a status update's text ran past the edge and cut "(not sent yet)" off.
    app = await warroom.app("bob", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        status = "Rollback 60% done; EU checkout still degraded, US recovered, next step at 15:00"
        await post_update_while_offline(warroom, app, pilot, status)
        [waiting] = [line for line in timeline_lines(app) if "Rollback 60%" in line]
        assert waiting.endswith("…  (not sent yet)")
        assert "  STATUS   bob          Status: Rollback 60% done" in waiting


def test_back_online_counts_only_when_there_was_more_than_one_change() -> None:
    notices = OfflineNotices()
    assert notices.connection(ConnectionStatus.RECONNECTING, 3) is None
    back = notices.connection(ConnectionStatus.CONNECTED, 0)
    assert back is not None
    assert back.message == (
        "All 3 changes kept while the server was not answering have reached it."
    )


async def test_the_helps_scroll_bar_is_whole_cells_on_a_track(
    warroom: Warroom, incident: int
) -> None:
    # The thumb's ends were eighth-block glyphs: "▂▂" beside a line of help, like a glitch.
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        box = app.screen.query_one("#help-dialog", VerticalScroll)
        for _ in range(4):
            await pilot.press("j")
            await pilot.pause()
            glyphs, backgrounds = scroll_bar_cells(app, box.vertical_scrollbar)
            assert glyphs == {" "}
            assert len(backgrounds) == 2  # a thumb on a track


def scroll_bar_cells(app: WarroomApp, bar: ScrollBar) -> tuple[set[str], set[RichColor | None]]:
    """The characters a scroll bar draws as it stands, and its cells' backgrounds."""
    options = app.console.options.update_dimensions(bar.size.width, bar.size.height)
    segments = [
        segment for line in app.console.render_lines(bar.render(), options) for segment in line
    ]
    backgrounds = {segment.style.bgcolor for segment in segments if segment.style}
    return {glyph for segment in segments for glyph in segment.text}, backgrounds


async def test_the_main_screens_scroll_bars_are_whole_cells(
    warroom: Warroom, incident: int
) -> None:
    # Eighth-block glyphs at the thumb's ends, which projectors and some fonts draw badly; the
    # help's scroll bar was already drawn in whole cells.
    alice = await warroom.client("alice", outbox=False)
    for n in range(40):
        await alice.execute(AddEntry(id=new_id(), incident_id=incident, text=f"step {n}"))
    for n in range(12):
        await alice.execute(AddChecklistItem(id=new_id(), incident_id=incident, title=f"do {n}"))
    app = await warroom.app("alice", incident)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        scrolling = {
            widget.id: widget
            for widget in app.screen.query("*")
            if widget.show_vertical_scrollbar or widget.show_horizontal_scrollbar
        }
        assert {"timeline-view", "checklist-pane"} <= set(scrolling)
        for widget in scrolling.values():
            bars = [
                bar
                for bar, shown in (
                    (widget.vertical_scrollbar, widget.show_vertical_scrollbar),
                    (widget.horizontal_scrollbar, widget.show_horizontal_scrollbar),
                )
                if shown
            ]
            # Every place the thumb stops, from the top: most start or end inside a cell.
            for y in range(min(widget.max_scroll_y, 12) + 1):
                widget.scroll_to(y=y, animate=False, immediate=True)
                await pilot.pause()
                for bar in bars:
                    glyphs, backgrounds = scroll_bar_cells(app, bar)
                    assert glyphs == {" "}, (widget.id, y)
                    assert len(backgrounds) == 2, (widget.id, y)
