"""The update clock on the server: writes "internal update overdue" once per missed deadline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from warroom.domain.events import SERVER_ACTOR, EntryAdded, Event
from warroom.domain.incident import IncidentState
from warroom.domain.timeline import EntryKind
from warroom.domain.update_clock import (
    OVERDUE_REMINDER_TEXT,
    UpdateCadence,
    missed_deadline_to_remind,
    next_update_due,
    overdue_reminder_text,
)
from warroom.server.sequencer import Sequencer

_LONGEST_NAP = timedelta(seconds=60)


class UpdateReminders:
    """Watches every open incident's update clock.

    `tick` does the work at the server's current time; `run` calls it at each deadline and
    whenever committed events may have moved one (tests call `tick` with a frozen clock).
    """

    def __init__(
        self,
        hub: Sequencer,
        cadence: UpdateCadence,
        clock: Callable[[], datetime],
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        """Args:
        leading: says whether this node runs the integrations now (one node of a cluster
            does; see `warroom.store.leadership`); a follower writes none. Reminders
            already written are found in the log by the next leader.
        """
        self._hub = hub
        self._leading = leading
        self._cadence = cadence
        self._clock = clock
        self._reminded: dict[int, datetime] = {}
        self._changed = asyncio.Event()
        hub.add_observer(self.on_events_committed, when=leading)

    def on_events_committed(self, events: list[Event]) -> None:
        if self._leading():  # a follower writes no reminder; `wake` tells it when it leads
            self._changed.set()

    def wake(self) -> None:
        """Look again now (this node became the leader)."""
        self._changed.set()

    async def tick(self) -> int:
        """Write a reminder for each incident whose deadline has just passed; returns how many
        (none on a node that does not lead: the leader writes them)."""
        if not self._leading():
            return 0
        now = self._clock()
        written = 0
        for state in self._hub.states:
            incident_id = state.incident.id
            due = missed_deadline_to_remind(
                state, now, self._reminded.get(incident_id), self._cadence
            )
            if due is None:
                continue
            self._reminded[incident_id] = due
            if _reminded_in_log(state, due):
                continue  # written before a restart; the log remembers what memory forgot
            text = overdue_reminder_text(state, due, self._cadence)
            await self._hub.record(incident_id, EntryAdded(kind=EntryKind.SYSTEM, text=text))
            written += 1
        return written

    async def run(self) -> None:
        """Tick at every deadline, and when events may have moved one, until cancelled."""
        while True:
            if not self._leading():
                # Deadlines are the leader's: looking at every state at each commit cost a
                # follower the application of every other node's events at once.
                self._changed.clear()
                await self._changed.wait()
                continue
            await self.tick()
            self._changed.clear()
            # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` loses a cancellation
            # that arrives as the event is set (an observer sets it at every commit), so the
            # node's shutdown waited for this task for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._seconds_to_next_deadline()):
                    await self._changed.wait()

    def _seconds_to_next_deadline(self) -> float:
        now = self._clock()
        deadlines = [
            due
            for state in self._hub.states
            if (due := next_update_due(state, self._cadence)) is not None and due > now
        ]
        wake = min([*deadlines, now + _LONGEST_NAP])
        return max(0.0, (wake - now).total_seconds())


def _reminded_in_log(state: IncidentState, due: datetime) -> bool:
    for entry in reversed(state.timeline):
        if entry.at < due:
            return False
        if entry.author == SERVER_ACTOR and entry.text.startswith(OVERDUE_REMINDER_TEXT):
            return True
    return False
