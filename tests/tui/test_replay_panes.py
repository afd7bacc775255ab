"""The replay's panes follow its steps by changing only what differs: a checklist item changed
by a step redraws that row and nothing else, the cursor and the scroll stay, and far jumps show
exactly the state's items, arrange the screen once and draw only the checklist rows on screen
(header, stripes and cursor in their styles); the severity pane and badge show the state's level
after going back and forth across changes."""

from __future__ import annotations

from typing import Any

import pytest
from bench.incident_log import generated_incident
from textual.app import App
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from warroom.domain.checklist import ChecklistItem
from warroom.domain.events import ChecklistItemChanged, EntryAdded, SeverityChanged
from warroom.domain.incident import IncidentState
from warroom.domain.replay_index import ReplayIndex
from warroom.tui.replay_app import make_replay_app
from warroom.tui.screens.replay import ReplayScreen
from warroom.tui.widgets.checklist_pane import STATE_MARKS, ChecklistPane
from warroom.tui.widgets.metrics_pane import MetricsPane
from warroom.tui.widgets.quiet_static import QuietStatic
from warroom.tui.widgets.severity_pane import SeverityPane
from warroom.tui.widgets.timeline_view import TimelineView

SIZE = (160, 48)
EVENTS = generated_incident(1500, seed=7)


def _screen(app: App[None]) -> ReplayScreen:
    assert isinstance(app.screen, ReplayScreen)
    return app.screen


def _shown(table: ChecklistPane) -> list[tuple[str, str, str]]:
    """Each row's state, owner and title as the table holds them."""
    return [
        (str(state), str(owner), str(title))
        for state, owner, _, title in (table.get_row_at(n) for n in range(table.row_count))
    ]


def _items(state: IncidentState) -> list[tuple[str, str, str]]:
    return [(STATE_MARKS[i.state], i.owner or "—", i.title) for i in state.checklist]


async def test_a_step_that_changes_an_item_redraws_its_row_only_and_keeps_cursor_and_scroll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = ReplayIndex(EVENTS)
    # A change to an item far enough down the list for the pane to be scrolled above it.
    seq, item_id = next(
        (e.seq, e.body.item_id)
        for e in EVENTS
        if isinstance(e.body, ChecklistItemChanged) and e.body.item_id >= 9
    )
    app = make_replay_app(index, at=seq - 1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ChecklistPane)
        state = _screen(app).state
        assert state is not None
        row = next(n for n, item in enumerate(state.checklist) if item.id == item_id)
        table.move_cursor(row=3, animate=False)
        top = min(row, round(table.max_scroll_y))  # scrolled, with the changed row on screen
        assert 0 < top <= row < top + table.scrollable_content_region.height - 1
        table.scroll_to(y=top, animate=False, immediate=True)
        await pilot.pause()
        assert table.scroll_y == top  # the list is longer than the pane
        drawn: list[int] = []
        monkeypatch.setattr(table, "_cells", _counting(table, drawn))
        await pilot.press("right")
        await pilot.pause()
        # Only the changed row was drawn again: every other row on screen is as it was.
        assert drawn == [item_id]
        state = _screen(app).state
        assert state is not None
        assert _shown(table) == _items(state)
        item = state.checklist[row]
        assert str(table.get_row_at(row)[0]) == STATE_MARKS[item.state]
        assert table.cursor_row == 3
        assert table.scroll_y == top

        drawn.clear()
        await pilot.press("left")
        await pilot.pause()
        assert drawn == [item_id]
        previous = _screen(app).state
        assert previous is not None
        assert _shown(table) == _items(previous)
        assert table.cursor_row == 3
        assert table.scroll_y == top


def _counting(table: ChecklistPane, drawn: list[int]) -> Any:
    """`table._cells`, noting the id of each item whose row is drawn."""
    cells = table._cells

    def counted(row: Any) -> Any:
        drawn.append(row[0])
        return cells(row)

    return counted


async def test_far_jumps_show_exactly_the_items_of_the_state() -> None:
    index = ReplayIndex(EVENTS)
    app = make_replay_app(index, at=index.last)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = _screen(app)
        table = app.screen.query_one(ChecklistPane)
        # Back past most items (rows taken off the end), forward a few (rows added), then to
        # the first event and back to the last (all of them added).
        for seq in (index.last // 3, index.last // 3 + 40, index.last, 700, 1, index.last):
            screen.go_to(seq)
            await pilot.pause()
            assert screen.state is not None
            assert _shown(table) == _items(screen.state), f"at event {seq}"
            # Rows taken off the end leave the table's own bookkeeping whole.
            assert table.virtual_size.height == table.header_height + table.row_count
            assert 0 <= table.cursor_row < table.row_count


def _severity_classes(widget: Static) -> set[str]:
    return {name for name in widget.classes if name in ("sev1", "sev2", "sev3")}


async def _check_severity(pilot: Pilot[None], app: App[None]) -> None:
    await pilot.pause()
    state = _screen(app).state
    assert state is not None
    wanted = {f"sev{state.incident.severity.value}"}
    assert _severity_classes(app.screen.query_one(SeverityPane)) == wanted
    badge = app.screen.query_one("#sev-badge", Static)
    assert _severity_classes(badge) == wanted
    assert str(badge.content) == state.incident.severity.label


async def test_the_severity_shows_the_states_level_going_back_and_forth() -> None:
    index = ReplayIndex(EVENTS)
    changes = [e.seq for e in EVENTS if isinstance(e.body, SeverityChanged)]
    app = make_replay_app(index, at=1)
    async with app.run_test(size=SIZE) as pilot:
        await _check_severity(pilot, app)
        for _ in range(3):
            await pilot.press("s")  # the next severity change
            await _check_severity(pilot, app)
        assert _screen(app).seq == changes[2]
        for key in ("left", "right", "S", "S", "s", "end", "S", "home"):
            await pilot.press(key)
            await _check_severity(pilot, app)


async def test_a_step_that_adds_an_entry_redraws_no_side_pane_and_lays_out_no_header_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = ReplayIndex(EVENTS)
    # Past the start, so the step before it has already drawn every pane once.
    seq = next(e.seq for e in EVENTS[200:] if isinstance(e.body, EntryAdded))
    app = make_replay_app(index, at=seq - 1)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = _screen(app)
        refreshes: list[tuple[str | None, bool]] = []
        texts = [*screen.query(QuietStatic)]
        for widget in [*texts, screen.query_one(ChecklistPane)]:

            def spy(*regions: Any, widget: Widget = widget, **options: Any) -> Widget:
                refreshes.append((widget.id, bool(options.get("layout"))))
                return Widget.refresh(widget, *regions, **options)

            monkeypatch.setattr(widget, "refresh", spy)
        await pilot.press("right")
        await pilot.pause()
        assert screen.seq == seq
        redrawn = {name for name, _ in refreshes}
        assert redrawn.isdisjoint({"severity-pane", "roster-pane", "checklist-pane"})
        assert "replay-bar" in redrawn  # the bar says which event this is
        fixed = {text.id for text in texts if text.sized_by_styles}
        assert {"replay-bar", "header-connection", "header-elapsed"} <= fixed
        assert not [name for name, layout in refreshes if layout and name in fixed]


async def test_a_far_jump_arranges_the_screen_once_and_draws_only_the_checklist_rows_on_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = ReplayIndex(EVENTS)
    app = make_replay_app(index, at=index.last)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = _screen(app)
        table = screen.query_one(ChecklistPane)
        layouts: list[int] = []
        arrange = screen._refresh_layout

        def counted_layout(*args: Any, **options: Any) -> None:
            layouts.append(screen.seq)
            arrange(*args, **options)

        monkeypatch.setattr(screen, "_refresh_layout", counted_layout)
        drawn: list[int] = []
        monkeypatch.setattr(table, "_cells", _counting(table, drawn))
        # Far back and far forward: the side panes' heights and both scrolling panes' lengths
        # change each time, and a layout pass used to ask for a second one.
        for seq in (index.last // 4, index.last - 10):
            layouts.clear()
            drawn.clear()
            screen.go_to(seq)
            await pilot.pause()
            await pilot.pause()
            assert layouts == [seq]
            on_screen = table.scrollable_content_region.height - table.header_height
            assert 0 < len(drawn) <= on_screen  # not one per item: the state has hundreds
            assert len(set(drawn)) == len(drawn)


async def test_the_checklist_draws_its_header_stripes_and_cursor_row_in_their_styles() -> None:
    index = ReplayIndex(EVENTS)
    app = make_replay_app(index, at=index.last)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ChecklistPane)
        assert table.row_count > 3
        assert (table.cursor_row, table.scroll_y) == (0, 0)

        def backgrounds(y: int) -> set[object]:
            return {s.style.bgcolor for s in table.render_line(y) if s.style is not None}

        def background(component: str) -> object:
            return table.get_component_rich_style(component).bgcolor

        assert backgrounds(0) == {background("checklist--header")}
        assert backgrounds(1) == {background("checklist--cursor")}  # the first item's row
        assert backgrounds(2) == {background("checklist--odd-row")}
        assert backgrounds(3) == {background("checklist--even-row")}
        assert len({background("checklist--odd-row"), background("checklist--even-row")}) == 2


async def test_the_checklist_grows_with_items_appended_to_the_same_list() -> None:
    # The live client's projection appends an added item to the state's own list in place.
    index = ReplayIndex(EVENTS)
    app = make_replay_app(index, at=index.last)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = _screen(app)
        table = screen.query_one(ChecklistPane)
        state = screen.state
        assert state is not None
        count = table.row_count
        state.checklist.append(ChecklistItem(id=10_000, title="Added [b]here[/b]", custom=True))
        screen.state = state
        await pilot.pause()
        assert table.row_count == count + 1
        assert table.virtual_size.height == table.header_height + count + 1
        table.move_cursor(row=count)
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y > 0
        assert str(table.get_row_at(count)[3]) == "Added [b]here[/b]"


def test_widgets_sized_by_one_layout_pass_keep_their_base_classes_styles() -> None:
    """Listed first, the mix-in hid the base class from the stylesheet's type rules: the
    header's one-line texts wrapped and pushed the overdue warning out of sight."""
    assert "Static" in QuietStatic._css_type_names
    assert "ScrollableContainer" in MetricsPane._css_type_names


async def test_a_timeline_line_drawn_again_is_kept_and_not_drawn_by_the_next_paint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timeline keeps each row's drawn line with what it showed; a line drawn again (its
    mark gone the step after a jump) replaces the kept one, so the next paint takes it from
    there instead of drawing it once more."""
    index = ReplayIndex(EVENTS)
    app = make_replay_app(index, at=index.last)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = _screen(app)
        view = screen.query_one(TimelineView)
        drawn: list[int] = []
        render_row = view._render_row

        def counted(row: int, width: int, *, cursor: bool) -> Strip:
            drawn.append(row)
            return render_row(row, width, cursor=cursor)

        monkeypatch.setattr(view, "_render_row", counted)
        for seq in (index.last // 3, index.last // 3 + 1, index.last // 2, index.last // 2 + 1):
            drawn.clear()
            screen.go_to(seq)
            await pilot.pause()
            assert drawn  # the jump's rows, or the rows whose mark changed, were drawn
            drawn.clear()
            for y in range(view.scrollable_content_region.height):
                view.render_line(y)  # as a repaint of the view asks for its lines again
            assert drawn == []
