"""The timeline pane: a kind filter and a search box above the virtualised timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive, reactive
from textual.widgets import Input, Select

from warroom.domain.incident import IncidentState
from warroom.domain.timeline import EntryKind
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.pending import PendingEntry
from warroom.tui.timeline_format import TimelineOrder, filter_entries
from warroom.tui.widgets.border_text import set_border_subtitle, set_border_title
from warroom.tui.widgets.timeline_view import TimelineView
from warroom.tui.words import count


class SearchInput(Input):
    """The timeline's search box; Escape hands the keys back to the timeline, so the next
    hotkey is a command again rather than more search text."""

    BINDINGS = bindings_for(Scope.SEARCH)

    def action_leave_timeline_search(self) -> None:
        self.screen.query_one(TimelineView).focus()


class TimelinePane(Vertical):
    """Everything recorded about the incident in the order it happened, latest at the bottom."""

    # The pane draws through its child widgets, which redraw when their text changes; a
    # repaint of the whole pane on every update would redraw all of them (`repaint=False`).
    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident shown; None while it loads."""
    pending: Reactive[tuple[PendingEntry, ...]] = reactive((), repaint=False)
    """Entries this console posted that the server has not committed yet."""

    def __init__(
        self,
        zone: tzinfo | None,
        clock: Callable[[], datetime] | None = None,
        *,
        replaced_in_place: bool = False,
    ) -> None:
        """`replaced_in_place`: the states shown may put a new entry in an old one's place
        (a replay's do), see `TimelineOrder`."""
        super().__init__(id="timeline-pane", classes="pane")
        self.border_title = "Timeline"
        self.view = TimelineView(zone, clock)
        self._order = TimelineOrder(replaced_in_place=replaced_in_place)
        """The lines themselves."""
        self._kind: EntryKind | None = None
        self._needle = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="timeline-filters"):
            yield Select(
                [(kind.value, kind) for kind in EntryKind],
                prompt="all kinds",
                id="timeline-kind",
                compact=True,
            )
            yield SearchInput(
                placeholder="search text, author or cid", id="timeline-search", compact=True
            )
        yield self.view

    def watch_state(self) -> None:
        self._show()

    def watch_pending(self) -> None:
        self._show()

    def _show(self, *, jump_to_end: bool = False) -> None:
        entries = self._order.update(self.state.timeline if self.state is not None else [])
        shown = filter_entries(entries, self._kind, self._needle)
        self.view.show_rows(shown, self.pending, jump_to_end=jump_to_end)
        filtered = self._kind is not None or bool(self._needle)
        total = count(len(entries), "entry", "entries")
        set_border_title(
            self, f"Timeline · {len(shown):,} of {total}" if filtered else f"Timeline · {total}"
        )

    @on(Select.Changed, "#timeline-kind")
    def filter_by_kind(self, event: Select.Changed) -> None:
        self._kind = event.value if isinstance(event.value, EntryKind) else None
        self._show(jump_to_end=True)

    @on(Input.Changed, "#timeline-search")
    def search_timeline(self, event: Input.Changed) -> None:
        self._needle = event.value.strip()
        self._show(jump_to_end=True)

    @on(Input.Submitted, "#timeline-search")
    def go_to_results(self) -> None:
        self.view.focus()

    @on(TimelineView.FollowChanged)
    def show_follow_state(self, event: TimelineView.FollowChanged) -> None:
        # The subtitle is our own words only: border titles are parsed as markup.
        set_border_subtitle(
            self, f"↓ {event.unseen} new below · End follows" if event.unseen else ""
        )
