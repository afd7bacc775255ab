"""The replay screen: the incident screen's own panes, read-only, on the incident as it stood right
after event N, with keys to step, jump and play through the log.

The panes are fed the state `ReplayIndex.state_at(N)` folds with the domain's projection, never a
copy of its rules; the screen holds no client and sends nothing, so no write is possible from it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive, reactive
from textual.screen import Screen

from warroom.domain.incident import IncidentState
from warroom.domain.links import ServiceLinks
from warroom.domain.replay_index import ChangeKind, ReplayIndex
from warroom.monitoring.signals import MetricsSnapshot
from warroom.tui.collector_pacing import (
    IDLE_AFTER,
    ReplayCollections,
    freeze_long_lived,
    release_closed,
)
from warroom.tui.commands_table import Scope, bindings_for
from warroom.tui.connection_state import ConnectionInfo
from warroom.tui.pending import PendingEntry
from warroom.tui.replay_format import ReplayPosition, replay_bar
from warroom.tui.safe_text import clean
from warroom.tui.time_format import day_and_time
from warroom.tui.widgets.checklist_pane import ChecklistPane
from warroom.tui.widgets.header import IncidentHeader
from warroom.tui.widgets.metrics_pane import MetricsPane
from warroom.tui.widgets.quiet_static import QuietStatic
from warroom.tui.widgets.role_footer import RoleFooter
from warroom.tui.widgets.roster_pane import RosterPane
from warroom.tui.widgets.severity_pane import SeverityPane
from warroom.tui.widgets.timeline_pane import TimelinePane
from warroom.tui.widgets.timeline_view import TimelineView

SPEEDS = (10, 60)
"""Play speeds, times real time."""
FRAME = 0.1
"""Seconds between frames while playing."""


class Ticks(Protocol):
    """Frames being delivered; stopping ends them (a Textual `Timer` is one)."""

    def stop(self) -> None: ...


TickSource = Callable[[float, Callable[[], None]], Ticks]
"""Starts calling a function every so many seconds. The screen plays on the app's own timers
unless given another, so a test can deliver the frames itself instead of waiting for them."""


class ReplayScreen(Screen[None]):
    """One incident replayed: every pane shows the state after the current event."""

    HELP_SCOPE = Scope.REPLAY
    """Listed first in help opened here."""

    BINDINGS = [
        # Before any pane's own keys (a scrollable pane takes arrows and Home/End otherwise).
        replace(binding, priority=True)
        for binding in bindings_for(Scope.REPLAY)
        if isinstance(binding, Binding)
    ]
    AUTO_FOCUS = None
    """Nothing takes focus: the replay's keys work everywhere and the panes are read-only."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-medium"), (220, "-wide")]
    """The incident screen's width classes, so the same stylesheet lays the panes out."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    # The names the incident screen's panes bind to; most stay empty in a replay.
    state: Reactive[IncidentState | None] = reactive(None, always_update=True, repaint=False)
    """The incident after the current event."""
    now: Reactive[datetime | None] = reactive(None, repaint=False)
    """The incident's own clock at the current step (it moves on while playing)."""
    me: Reactive[str | None] = reactive(None, repaint=False)
    """Nobody: a replay offers no one's writes."""
    connection: Reactive[ConnectionInfo] = reactive(ConnectionInfo(), repaint=False)
    online: Reactive[frozenset[str]] = reactive(frozenset(), repaint=False)
    pending: Reactive[tuple[PendingEntry, ...]] = reactive((), repaint=False)
    metrics: Reactive[MetricsSnapshot | None] = reactive(None, repaint=False)
    """Always None: the metrics pane shows the snapshot last pinned by the current step."""
    links: Reactive[dict[str, ServiceLinks]] = reactive(dict, repaint=False)

    def __init__(
        self,
        index: ReplayIndex,
        zone: tzinfo | None,
        *,
        at: int | None = None,
        ticks: TickSource | None = None,
    ) -> None:
        super().__init__(id="replay")
        self.index = index
        """The incident's log, ready to fold to any event."""
        self.zone = zone
        self.seq = 0
        """The event shown (0 until mounted)."""
        self._start = index.last if at is None else at
        self._speed = SPEEDS[0]
        self._ticks = ticks
        self._player: Ticks | None = None
        self._bar = QuietStatic(id="replay-bar")
        self._collections = ReplayCollections()
        self._still: Ticks | None = None
        """The timer that collects while the replay is still."""
        self._stepped_at = 0.0
        """`time.monotonic()` at the last step."""

    def compose(self) -> ComposeResult:
        zone = self.zone
        yield IncidentHeader(zone).data_bind(
            ReplayScreen.state, ReplayScreen.now, ReplayScreen.connection, ReplayScreen.me
        )
        with Horizontal(id="body"):
            with Vertical(id="side"):
                yield SeverityPane(zone).data_bind(ReplayScreen.state)
                yield RosterPane().data_bind(
                    ReplayScreen.state, ReplayScreen.online, ReplayScreen.me
                )
                yield MetricsPane(zone, self._clock).data_bind(
                    ReplayScreen.state, snapshot=ReplayScreen.metrics, links=ReplayScreen.links
                )
            with Vertical(id="work"):
                yield TimelinePane(zone, self._clock, replaced_in_place=True).data_bind(
                    ReplayScreen.state, ReplayScreen.pending
                )
                yield ChecklistPane(zone).data_bind(ReplayScreen.state, ReplayScreen.me)
        yield self._bar
        yield RoleFooter()

    def on_mount(self) -> None:
        # Read-only: nothing on this screen takes the keyboard, so every key is the replay's.
        for widget in self.query("*"):
            widget.can_focus = False
        self.set_focus(None)
        self._collections.start()
        self._still = self.set_interval(IDLE_AFTER, self._collect_if_still)
        self.go_to(self._start)
        # The folded log, the timeline's order and the panes live as long as the screen.
        self.call_after_refresh(freeze_long_lived)

    def on_unmount(self) -> None:
        self._stop_collecting()

    def _stop_collecting(self) -> None:
        if self._still is not None:
            self._still.stop()
            self._still = None
        self._collections.stop()

    def _clock(self) -> datetime:
        return self.now or self.index.at(self.seq or 1)

    # --- moving -------------------------------------------------------------------------------

    def go_to(self, seq: int, *, moment: datetime | None = None) -> None:
        """Show the incident right after event `seq`, its clock at `moment` (default: the
        event's own time)."""
        seq = min(max(seq, 1), self.index.last)
        changed = seq != self.seq
        self.seq = seq
        self.now = moment or self.index.at(seq)
        if changed:
            self.state = self.index.state_at(seq)
            # Right after the pane took the new rows, so the mark is drawn in the same frame.
            self.query_one(TimelineView).highlight(self.index.changed_entry_ids(seq))
            self._collect_between_steps()
        self._show_position()

    def _collect_between_steps(self) -> None:
        """After this step's paint, collect if too much waits (see `collector_pacing`): never
        inside a step."""
        self._stepped_at = time.monotonic()
        if self._collections.due:
            self.call_after_refresh(self._collections.collect_if_due)

    def _collect_if_still(self) -> None:
        if time.monotonic() - self._stepped_at >= IDLE_AFTER:
            self._collections.collect_if_any()

    def _show_position(self) -> None:
        at = self.now or self.index.at(self.seq)
        declared = self.index.at(1)
        corner = Text("⏵ REPLAY" if self._player is not None else "⏸ REPLAY", style="bold")
        corner.append(f"\n{day_and_time(at, self.zone, seconds=True)[11:]}")
        self.query_one("#header-connection", QuietStatic).show(corner)
        event = self.index.event(self.seq)
        position = ReplayPosition(
            seq=self.seq,
            last=self.index.last,
            at=at,
            declared=declared,
            speed=self._speed if self._player is not None else None,
            description=f"{clean(event.actor)}: {event.body.type.replace('_', ' ')}",
        )
        self._bar.show(replay_bar(position, self.zone, self.size.width))

    def on_resize(self) -> None:
        if self.seq:
            self._show_position()

    def action_step_forward(self) -> None:
        self.go_to(self.seq + 1)

    def action_step_back(self) -> None:
        self.go_to(self.seq - 1)

    def action_minute_forward(self) -> None:
        self.go_to(self.index.minute_later(self.seq))

    def action_minute_back(self) -> None:
        self.go_to(self.index.minute_later(self.seq, -1))

    def _jump(self, seq: int | None, what: str) -> None:
        if seq is None:
            self.notify(f"No {what} that way.", title="Replay", timeout=2)
            return
        self.go_to(seq)

    def action_next_severity_change(self) -> None:
        self._jump(self.index.next_change(self.seq, ChangeKind.SEVERITY), "severity change")

    def action_previous_severity_change(self) -> None:
        self._jump(self.index.previous_change(self.seq, ChangeKind.SEVERITY), "severity change")

    def action_next_phase_change(self) -> None:
        self._jump(self.index.next_change(self.seq, ChangeKind.PHASE), "phase change")

    def action_previous_phase_change(self) -> None:
        self._jump(self.index.previous_change(self.seq, ChangeKind.PHASE), "phase change")

    def action_next_role_change(self) -> None:
        self._jump(self.index.next_change(self.seq, ChangeKind.ROLE), "role change")

    def action_previous_role_change(self) -> None:
        self._jump(self.index.previous_change(self.seq, ChangeKind.ROLE), "role change")

    def action_first_event(self) -> None:
        self.go_to(1)

    def action_last_event(self) -> None:
        self.go_to(self.index.last)

    # --- playing ------------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
        if self._player is not None:
            self._pause()
        else:
            if self.seq >= self.index.last:
                self.go_to(1)
            self._player = self._start_ticks(FRAME, self._play_frame)
        self._show_position()

    def action_toggle_speed(self) -> None:
        self._speed = SPEEDS[(SPEEDS.index(self._speed) + 1) % len(SPEEDS)]
        self._show_position()

    def _start_ticks(self, every: float, frame: Callable[[], None]) -> Ticks:
        if self._ticks is not None:
            return self._ticks(every, frame)
        return self.set_interval(every, frame)

    @property
    def speed(self) -> int:
        """Times real time while playing."""
        return self._speed

    @property
    def playing(self) -> bool:
        return self._player is not None

    def _pause(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None

    def _play_frame(self) -> None:
        """Move the incident's clock on by a frame at the play speed, and the state with it."""
        moment = self._clock() + timedelta(seconds=FRAME * self._speed)
        seq = self.index.seq_at_time(moment)
        if seq >= self.index.last:
            self._pause()
            self.go_to(self.index.last)
            return
        self.go_to(max(seq, self.seq), moment=moment)

    def action_close_replay(self) -> None:
        self._pause()
        self._stop_collecting()
        self.dismiss()
        # It was frozen with the folded log after its first paint: thaw, and freeze again once
        # it is gone (the worker holds only a weak reference to it).
        app, closed = self.app, weakref.ref(self)
        app.call_later(lambda: app.run_worker(release_closed(closed), group="replay-release"))
