"""The metrics pane: the latest metrics snapshot the incident's timeline holds, or says none."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.reactive import Reactive, reactive

from warroom.domain.incident import IncidentState
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.tui.safe_text import clean
from warroom.tui.time_format import clock_time
from warroom.tui.widgets.quiet_static import QuietStatic

NO_SNAPSHOT = "No metrics snapshot yet."


def latest_metrics(state: IncidentState) -> TimelineEntry | None:
    """The newest metrics entry that has not been struck."""
    for entry in reversed(state.timeline):
        if entry.kind is EntryKind.METRICS and not entry.struck:
            return entry
    return None


class MetricsPane(ScrollableContainer):
    """Service metrics as last captured on the timeline (the Prometheus poller writes them).

    Snapshots are column-aligned tables, so lines are never wrapped: the pane scrolls sideways.
    """

    state: Reactive[IncidentState | None] = reactive(None, always_update=True)
    """The incident shown; None while it loads."""

    def __init__(self, zone: tzinfo | None) -> None:
        super().__init__(id="metrics-pane", classes="pane")
        self.border_title = "Metrics"
        self._zone = zone
        self.text = QuietStatic(id="metrics-text")
        """The snapshot as shown."""

    def compose(self) -> ComposeResult:
        yield self.text

    def watch_state(self, state: IncidentState | None) -> None:
        entry = latest_metrics(state) if state is not None else None
        if entry is None:
            self.border_subtitle = ""
            self.text.show(Text(NO_SNAPSHOT, style="italic"))
            return
        self.border_subtitle = f"as of {clock_time(entry.when, self._zone)}"
        self.text.show(Text(clean(entry.text, keep_newlines=True)))
