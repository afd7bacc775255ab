"""The metrics pane: the live snapshot the server pushes, else the latest pinned one, else why
there is none; each service with its dashboard link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.reactive import Reactive, reactive

from warroom.domain.incident import IncidentState
from warroom.domain.links import ServiceLinks
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.domain.timeline_list import Timeline
from warroom.monitoring.signals import Level, MetricsSnapshot
from warroom.tui.links import dashboard_links, incident_services
from warroom.tui.metrics_format import MetricsStyles, services_text, snapshot_text
from warroom.tui.safe_text import clean
from warroom.tui.time_format import clock_time
from warroom.tui.widgets.border_text import set_border_subtitle
from warroom.tui.widgets.one_layout_pass import OneLayoutPass
from warroom.tui.widgets.quiet_static import QuietStatic

NO_SNAPSHOT = "No metrics snapshot yet."
NO_SERVICES_HINT = "The incident lists no services:\nthe IC or a TL adds one with +."
"""Prose in a pane that never wraps (its lines are column-aligned): broken by hand so that it
fits the side column's 40 columns instead of being cut at "the IC o"."""

_LEVEL_CLASSES = {level: f"metrics--{level.value.replace('_', '-')}" for level in Level}


def latest_metrics(state: IncidentState) -> TimelineEntry | None:
    """The newest metrics entry that has not been struck."""
    return next((e for e in state.timeline.newest_of_kind(EntryKind.METRICS) if not e.struck), None)


class LatestMetrics:
    """`latest_metrics`, kept up to date without scanning the whole timeline on every update.

    The timeline only grows at the end; entries change in place only by being amended (kind
    unchanged) or struck. So the entries seen last time need no second look unless the one found
    was struck since, and a burst of events costs a scan of the new entries only.
    """

    def __init__(self) -> None:
        self._timeline: Timeline | None = None
        self._seen = 0
        self._found: TimelineEntry | None = None

    def __call__(self, state: IncidentState) -> TimelineEntry | None:
        timeline = state.timeline
        found = self._found
        if (
            timeline is not self._timeline
            or len(timeline) < self._seen
            or (found is not None and found.struck)
        ):
            # Another incident, a replaced snapshot, or the pinned entry struck: look again.
            self._timeline, found = timeline, latest_metrics(state)
        else:
            # By kind first: the new entries may still be rows (`Timeline`), built only if read.
            for index in range(len(timeline) - 1, self._seen - 1, -1):
                if timeline.kind_at(index) is EntryKind.METRICS and not timeline[index].struck:
                    found = timeline[index]
                    break
        self._seen, self._found = len(timeline), found
        return found


class MetricsPane(ScrollableContainer, OneLayoutPass):
    """Service metrics: the server's live snapshot (values against thresholds, a trend, when it
    was read), falling back to the snapshot last pinned on the timeline.

    Lines are never wrapped (they are column-aligned): the pane scrolls sideways instead.
    """

    COMPONENT_CLASSES = {
        "metrics--service",
        "metrics--link",
        "metrics--muted",
        *_LEVEL_CLASSES.values(),
    }

    # The pane draws through its child widgets, which redraw when their text changes; a
    # repaint of the whole pane on every update would redraw all of them (`repaint=False`).
    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident shown; None while it loads."""
    snapshot: Reactive[MetricsSnapshot | None] = reactive(None, repaint=False)
    """The latest snapshot the server sent for this incident, if any."""
    note: Reactive[str] = reactive("", repaint=False)
    """Why the server has no snapshot (e.g. no Prometheus configured), when it said so."""
    links: Reactive[dict[str, ServiceLinks]] = reactive(dict, repaint=False)
    """The server's link templates per service, for the dashboard links."""

    def __init__(self, zone: tzinfo | None, clock: Callable[[], datetime]) -> None:
        super().__init__(id="metrics-pane", classes="pane")
        self.border_title = "Metrics"
        self._zone = zone
        self._clock = clock
        self._styles: MetricsStyles | None = None
        self._latest_metrics = LatestMetrics()
        self.text = QuietStatic(id="metrics-text")
        """The snapshot as shown."""

    def compose(self) -> ComposeResult:
        yield self.text

    def watch_state(self) -> None:
        self._show()

    def watch_snapshot(self) -> None:
        self._show()

    def watch_note(self) -> None:
        self._show()

    def watch_links(self) -> None:
        self._show()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # A new theme means new level colours: resolve them again and redraw.
        self._styles = None
        if self.is_mounted:
            self._show()

    def _resolve_styles(self) -> MetricsStyles:
        if self._styles is None:
            style = self.get_component_rich_style
            self._styles = MetricsStyles(
                levels={level: style(name) for level, name in _LEVEL_CLASSES.items()},
                service=style("metrics--service"),
                link=style("metrics--link"),
                muted=style("metrics--muted"),
            )
        return self._styles

    def _show(self) -> None:
        state = self.state
        if state is None:
            self.text.show(Text("…"))
            return
        styles = self._resolve_styles()
        services = incident_services(state)
        dashboards = dashboard_links(state, self.links, self._clock())
        snapshot = self.snapshot
        if snapshot is not None:
            set_border_subtitle(self, f"read {clock_time(snapshot.read_at, self._zone)}")
            self.text.show(snapshot_text(snapshot, services, dashboards, styles))
            return
        parts: list[Text] = []
        entry = self._latest_metrics(state)
        if entry is not None:
            set_border_subtitle(self, f"pinned {clock_time(entry.when, self._zone)}")
            parts.append(Text(clean(entry.text, keep_newlines=True)))
        else:
            set_border_subtitle(self, "")
            parts.append(Text(NO_SNAPSHOT, style="italic"))
            if self.note and services:
                parts.append(Text(clean(self.note), style=styles.muted))
        if not services:
            parts.append(Text(NO_SERVICES_HINT, style=styles.muted))
        else:
            parts.append(services_text(services, dashboards, styles))
        self.text.show(Text("\n\n").join(parts))
