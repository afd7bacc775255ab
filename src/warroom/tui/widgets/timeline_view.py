"""The timeline as one virtualised widget: only the visible lines are ever rendered.

Each entry is one line (the detail view shows the whole entry). The widget holds a reference to
the incident's entry list, not a copy, so a 10,000-entry timeline costs the same to redraw as a
ten-entry one: the lines on screen.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.domain.instants import in_zone
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.pending import PendingEntry
from warroom.tui.timeline_format import (
    PositionOrder,
    TimelineStyles,
    entry_line,
    pending_key,
    pending_line,
    pending_rows,
)

_KIND_CLASSES = {kind: f"timeline--kind-{kind.value}" for kind in EntryKind}


class TimelineView(ScrollView, can_focus=True):
    """Timeline lines in the order things happened, latest at the bottom; follows new entries
    while the cursor is on the last line and the view is at the bottom, and stays put once the
    reader moves up. This console's unsent entries sit where their entries will land, greyed."""

    BINDINGS = bindings_for(Scope.TIMELINE)

    COMPONENT_CLASSES = {
        "timeline--time",
        "timeline--author",
        "timeline--correlation",
        "timeline--note",
        "timeline--struck",
        "timeline--pending",
        "timeline--cursor",
        "timeline--changed",
        *_KIND_CLASSES.values(),
    }

    @dataclass
    class FollowChanged(Message):
        """Whether the view follows new entries, and how many arrived below while it did not."""

        following: bool
        unseen: int

    @dataclass
    class EntryOpened(Message):
        """The reader asked to see an entry in full (the screen adds its investigation links)."""

        entry: TimelineEntry

    cursor: Reactive[int] = reactive(-1)
    """Row of the highlighted line; -1 when the timeline is empty."""

    def __init__(self, zone: tzinfo | None, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(id="timeline-view")
        self._zone = zone
        self._clock = clock
        self._today: date | None = None
        """The app clock's date: times of other days show their date."""
        self._entries: Sequence[TimelineEntry] = ()
        self._pending: Sequence[PendingEntry] = ()
        self._pending_at: list[int] = []
        """The row of each pending entry, ascending (few: only this console's unsent ones)."""
        self._lines: LRUCache[int, tuple[object, int, bool, Strip]] = LRUCache(1024)
        """Rendered lines by row, each with the row it was drawn from, that row's revision count
        and whether it was marked as changed, so a line is drawn again only when its row changed
        (see `_line_key`)."""
        self._styles: TimelineStyles | None = None
        self._base_style = Style()
        """The widget's own style for the paint under way (`render_lines`)."""
        self._unseen = 0
        self._highlighted: frozenset[int] = frozenset()
        """Ids of the entries marked as changed (the replay's current step)."""
        self._reveal_highlight = False
        """Whether the marked entries still need scrolling into view once the layout is known
        (`_settle`)."""
        self._shown = 0
        """Rows at the last `show_rows`. The entry list is the client's own and grows in place,
        so its length already includes new entries by the time the view hears of them."""

    @property
    def row_count(self) -> int:
        return len(self._entries) + len(self._pending)

    @property
    def entry_under_cursor(self) -> TimelineEntry | None:
        if not 0 <= self.cursor < self.row_count:
            return None
        row = self._row(self.cursor)
        return row if isinstance(row, TimelineEntry) else None

    def _row(self, row: int) -> TimelineEntry | PendingEntry:
        before = bisect_left(self._pending_at, row)  # pending rows above this one
        if before < len(self._pending_at) and self._pending_at[before] == row:
            return self._pending[before]
        return self._entries[row - before]

    @property
    def is_following(self) -> bool:
        at_bottom = self.max_scroll_y == 0 or self.is_vertical_scroll_end
        return self.cursor >= self._shown - 1 and at_bottom

    def show_rows(
        self,
        entries: Sequence[TimelineEntry],
        pending: Sequence[PendingEntry],
        *,
        jump_to_end: bool = False,
    ) -> None:
        """Show these rows: committed entries sorted by (when, seq), and this console's pending
        ones merged in by the time they are about."""
        following = jump_to_end or self.is_following
        before = self._shown
        self._entries = entries
        self._pending = sorted(pending, key=pending_key)
        self._pending_at = pending_rows(entries, self._pending)
        today = self._current_day()
        if today != self._today:
            self._today = today
            self._lines.clear()
        # Cached lines stay: each is checked against its row when drawn (`_line_key`), so a burst
        # of appended entries renders only the new lines, not every visible one again.
        count = self._shown = self.row_count
        self.virtual_size = Size(self.scrollable_content_region.width, count)
        if following:
            self._unseen = 0
            self.cursor = count - 1
            self._stick_to_end()
            # Before the first layout the height is unknown; stick again once it is.
            self.call_after_refresh(self._settle, following=True)
        else:
            self._unseen += max(0, count - before)
            self.cursor = min(self.cursor, count - 1)
        self.post_message(self.FollowChanged(following, self._unseen))
        self.refresh()

    def highlight(self, entry_ids: frozenset[int]) -> None:
        """Mark the entries with these ids as just changed and scroll the newest into view, in
        the same frame as the rows shown last (call it right after `show_rows`)."""
        self._highlighted = entry_ids
        # Only the lines whose mark changes are drawn again: cached lines carry their mark.
        row = self._newest_highlighted_row()
        if row is not None:
            self._scroll_cursor_into_view(row)
        self._reveal_highlight = row is not None
        self.refresh()

    def _newest_highlighted_row(self) -> int | None:
        if not self._highlighted:
            return None
        if isinstance(self._entries, PositionOrder):
            # A replay's 100,000 entries: each looked up by its id rather than scanned for.
            rows = map(self._entries.row_of, self._highlighted)
            return max((row for row in rows if row is not None), default=None)
        # From the end: what a step changes is nearly always among the newest entries.
        entries = self._entries
        for row in range(len(entries) - 1, -1, -1):
            if entries[row].id in self._highlighted:
                return row
        return None

    def _settle(self, *, following: bool) -> None:
        """Once the layout is known: stick to the end if following, then bring the marked entry
        into view. Moves the view only when the first placing, before the layout was known, was
        wrong: a view placed right in the frame of the change is not drawn a second time."""
        top = self.max_scroll_y if following else round(self.scroll_y)
        if self._reveal_highlight:
            self._reveal_highlight = False
            row = self._newest_highlighted_row()
            if row is not None:
                top = self._top_showing(row, top)
        if top != round(self.scroll_y):
            self.scroll_to(y=top, animate=False, immediate=True)

    def _current_day(self) -> date | None:
        if self._clock is None:
            return None
        local = in_zone(self._clock(), self._zone)
        return local.date() if local is not None else None

    def _stick_to_end(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    # --- rendering --------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._lines.clear()

    def on_resize(self) -> None:
        self._lines.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Once per paint, not per line: `rich_style` walks every ancestor's styles.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        if not 0 <= row < self.row_count:
            return Strip.blank(width, self.rich_style)
        if row == self.cursor and self.has_focus:
            return self._render_row(row, width, cursor=True)
        source, version = self._line_key(row)
        marked = isinstance(source, TimelineEntry) and source.id in self._highlighted
        cached = self._lines.get(row)
        if (
            cached is not None
            and cached[0] is source
            and cached[1] == version
            and cached[2] is marked
        ):
            return cached[3]
        line = self._render_row(row, width, cursor=False)
        # Textual's `LRUCache.set` keeps the value a key already has: take the stale one out.
        self._lines.discard(row)
        self._lines[row] = (source, version, marked, line)
        return line

    def _line_key(self, row: int) -> tuple[object, int]:
        """What the line at `row` is drawn from, and its version. Entries are amended and struck
        in place, and both add a revision, so the revision count says whether a cached line is
        stale; a filter or a settled pending entry puts another object at the row."""
        item = self._row(row)
        return item, len(item.revisions) if isinstance(item, TimelineEntry) else 0

    def _render_row(self, row: int, width: int, *, cursor: bool) -> Strip:
        styles = self._resolve_styles()
        item = self._row(row)
        if isinstance(item, TimelineEntry):
            text = entry_line(item, self._zone, styles, self._today)
        else:
            text = pending_line(item, self._zone, styles, self._today, width)
        base = self._base_style
        text.style = base
        text.truncate(width, overflow="ellipsis", pad=True)
        if cursor:
            text.stylize(self.get_component_rich_style("timeline--cursor"))
        elif isinstance(item, TimelineEntry) and item.id in self._highlighted:
            text.stylize(self.get_component_rich_style("timeline--changed"))
        line = Strip(list(text.render(self.app.console)))
        # Padded to the width already. `crop_extend` of a strip that needs nothing would cache
        # the strip in itself: a cycle per line, which only the cyclic collector frees.
        return line if line.cell_length == width else line.crop_extend(0, width, base)

    def _resolve_styles(self) -> TimelineStyles:
        if self._styles is None:

            def style(name: str) -> Style:
                return self.get_component_rich_style(name)

            self._styles = TimelineStyles(
                time=style("timeline--time"),
                author=style("timeline--author"),
                correlation=style("timeline--correlation"),
                note=style("timeline--note"),
                struck=style("timeline--struck"),
                pending=style("timeline--pending"),
                kinds={kind: style(name) for kind, name in _KIND_CLASSES.items()},
            )
        return self._styles

    # --- cursor and scrolling ---------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        if new >= 0:
            self._scroll_cursor_into_view(new)
        self.refresh()

    def _scroll_cursor_into_view(self, row: int) -> None:
        top = round(self.scroll_y)
        wanted = self._top_showing(row, top)
        if wanted != top:
            self.scroll_to(y=wanted, animate=False, immediate=True)

    def _top_showing(self, row: int, top: int) -> int:
        """The nearest first visible row to `top` that puts `row` in view."""
        height = self.scrollable_content_region.height
        if row < top:
            return row
        if height and row >= top + height:
            return row - height + 1
        return top

    def _move_cursor(self, row: int) -> None:
        if self.row_count:
            self.cursor = max(0, min(row, self.row_count - 1))
            if self.is_following and self._unseen:
                self._unseen = 0
                self.post_message(self.FollowChanged(True, 0))

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move_cursor(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move_cursor(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first_entry(self) -> None:
        self._move_cursor(0)

    def action_follow_timeline(self) -> None:
        self._move_cursor(self.row_count - 1)
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._unseen = 0
        self.post_message(self.FollowChanged(True, 0))

    def action_show_timeline_entry(self) -> None:
        entry = self.entry_under_cursor
        if entry is not None:
            self.post_message(self.EntryOpened(entry))

    def on_click(self, event: events.Click) -> None:
        self._move_cursor(round(self.scroll_y) + event.y)
