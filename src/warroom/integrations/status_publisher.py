"""Publishes IC-approved public updates: the server's own `/status` page, a folder, Statuspage.

Incidents whose post-mortem is done leave the server's memory, but the page keeps listing the
ones resolved in the last `RECENT_CLOSED` (as public status pages list past incidents): their
public faces are read once from the store at start and kept when a post-mortem is marked done.

It also offers the IC the way to close the public side: when an incident is resolved it drafts
the "resolved" update (`domain.public_side`), which is published only once the IC approves it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from warroom.domain.events import (
    SERVER_ACTOR,
    EntryAdded,
    Event,
    ExternalApproved,
    PhaseChanged,
    kinds_of,
)
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.phase import Phase
from warroom.domain.public_side import resolution_draft
from warroom.domain.timeline import EntryKind
from warroom.integrations.mobilization import outcome_text
from warroom.integrations.tasks import TaskSet
from warroom.notify.statuspage import StatuspageNotifier
from warroom.server.sequencer import Sequencer
from warroom.status_page import (
    PublicIncident,
    build_public_status,
    public_incident,
    render_html,
    render_json,
    write_status_folder,
)
from warroom.store.base import StoreError

log = logging.getLogger(__name__)

REMOTE_TAG = "statuspage:"
"""Tag on the outcome entry that remembers the Statuspage incident id across restarts."""
RECENT_CLOSED = timedelta(days=14)
"""How long after its resolution a closed incident stays on the page."""


class StatusPublisher:
    """Keeps the public page current. It reads only approved updates (see `status_page`)."""

    def __init__(
        self,
        hub: Sequencer,
        tasks: TaskSet,
        clock: Callable[[], datetime],
        folder: Path | None,
        statuspage: StatuspageNotifier | None,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        """Args:
        leading: says whether this node runs the integrations now (one node of a cluster
            does; see `warroom.store.leadership`). Every node keeps its own `/status`
            page current; only the leader drafts and publishes.
        """
        self._hub = hub
        self._leading = leading
        self._tasks = tasks
        self._clock = clock
        self._folder = folder
        self._statuspage = statuspage
        self.html = ""
        self.json = ""
        self._preparing = asyncio.Lock()
        self._closed: dict[int, tuple[datetime | None, PublicIncident]] = {}
        """Public faces of closed incidents (post-mortem done), with when they were resolved."""
        self.closed_loaded = asyncio.Event()
        """Set once the recently closed incidents were read from the store at start."""
        self.refresh()
        hub.add_observer(self.on_events_committed, kinds=kinds_of(ExternalApproved, PhaseChanged))
        # Incidents resolved while the server was down (or before it offered this) get theirs.
        tasks.spawn(self.prepare_resolutions(), "resolved drafts")

    def refresh(self) -> None:
        now = self._clock()
        recent = [
            face
            for resolved_at, face in self._closed.values()
            if resolved_at is None or order_key(now) - order_key(resolved_at) <= RECENT_CLOSED
        ]
        status = build_public_status(self._hub.states, generated_at=now, closed=recent)
        self.html = render_html(status)
        self.json = render_json(status)
        if self._folder is not None:
            write_status_folder(self._folder, status)

    async def load_recent_closed(self) -> None:
        """Read the public faces of the incidents closed in the last `RECENT_CLOSED` from the
        store (they are not in memory), then refresh the page and set `closed_loaded`. Run once,
        in the background, right after the start."""
        try:
            await self._load_recent_closed()
        finally:
            self.closed_loaded.set()

    async def _load_recent_closed(self) -> None:
        closed = [
            summary
            for summary in self._hub.summaries
            if summary.phase is Phase.POSTMORTEM_DONE and summary.id not in self._closed
        ]
        if not closed:
            return  # nothing to add: the page (and the clock) are left alone
        now = self._clock()
        for summary in closed:
            resolved_at = summary.resolved_at
            if resolved_at is not None and order_key(now) - order_key(resolved_at) > RECENT_CLOSED:
                continue
            try:
                state = await self._hub.read_state(summary.id)
            except StoreError as exc:
                log.error("status page: incident %d left out: %s", summary.id, exc)
                continue
            if state is not None:
                self._keep_closed(state)
        self.refresh()

    def _keep_closed(self, state: IncidentState) -> None:
        face = public_incident(state)
        if face is not None:
            self._closed[state.incident.id] = (state.incident.resolved_at, face)

    def on_events_committed(self, events: list[Event]) -> None:
        approvals = [e for e in events if isinstance(e.body, ExternalApproved)]
        phases = [(e.incident_id, e.body.phase) for e in events if isinstance(e.body, PhaseChanged)]
        for incident_id in {e.incident_id for e in approvals} | {i for i, _ in phases}:
            # Still in memory right after the commit; once its post-mortem is done it may leave.
            state = self._hub.incident_state(incident_id)
            if state is not None and state.incident.phase is Phase.POSTMORTEM_DONE:
                self._keep_closed(state)
        if approvals or phases:
            # Whether an incident still counts as active follows its phase too, not only what
            # was approved: a page left as it was before the resolve would contradict itself.
            self.refresh()
        resolved = {incident_id for incident_id, phase in phases if phase is Phase.RESOLVED}
        if resolved:
            self._tasks.spawn(self.prepare_resolutions(resolved), "resolved drafts")
        if not approvals:
            return
        if self._statuspage is not None and self._leading():
            for event in approvals:
                self._tasks.spawn(self._publish(event), f"statuspage #{event.incident_id}")

    async def prepare_resolutions(self, incident_ids: set[int] | None = None) -> int:
        """Draft the resolved update for each resolved incident whose public side is still open
        (all incidents when `incident_ids` is None); returns how many were drafted.

        One at a time, each decided on the committed state: a second call sees the first's
        draft and drafts nothing.
        """
        if not self._leading():
            return 0
        drafted = 0
        async with self._preparing:
            for state in self._hub.states:
                if incident_ids is not None and state.incident.id not in incident_ids:
                    continue
                draft = resolution_draft(state)
                if draft is not None:
                    await self._hub.record(state.incident.id, draft)
                    drafted += 1
        return drafted

    async def _publish(self, event: Event) -> None:
        assert self._statuspage is not None
        assert isinstance(event.body, ExternalApproved)
        state = self._hub.incident_state(event.incident_id)
        update = state.external_update(event.body.draft_id) if state is not None else None
        if state is None or update is None:
            return
        outcome, remote_id = await self._statuspage.publish(
            update.model_copy(), _remote_id(state), severity=state.incident.severity
        )
        text = outcome_text(f"Public update #{update.id} published to Statuspage", outcome)
        tags = [f"{REMOTE_TAG}{remote_id}"] if remote_id else []
        await self._hub.record(
            event.incident_id, EntryAdded(kind=EntryKind.SYSTEM, text=text, tags=tags)
        )


def _remote_id(state: IncidentState) -> str | None:
    for entry in reversed(state.timeline):
        if entry.author != SERVER_ACTOR:
            continue
        for tag in entry.tags:
            if tag.startswith(REMOTE_TAG):
                return tag.removeprefix(REMOTE_TAG)
    return None
