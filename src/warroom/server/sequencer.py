"""The seam around the sequencer: what handlers and integrations may ask of it, and nothing about
how it decides, numbers, commits and publishes.

`Hub` implements it, for one node on its own database and for one of several stateless nodes on
one PostgreSQL (per-incident advisory locks around the commit, a turn decided again when another
node committed first, LISTEN/NOTIFY to fan committed events out to every node's followers: see
`warroom.server.cluster`); the websocket server and the integrations only see this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from warroom.domain.events import SERVER_ACTOR, Event, EventBody
from warroom.domain.incident import IncidentState, IncidentSummary
from warroom.protocol.frames import ClientFrame
from warroom.server.connection import Connection
from warroom.server.hub import MetricsSource, ReadHandler, TriageBook


class Sequencer(Protocol):
    """Decides, commits and publishes every write, in one order per incident."""

    # --- the websocket server's side ------------------------------------------------------------

    def submit(self, conn: Connection, frame: ClientFrame) -> None:
        """Queue a console's frame; its reply goes back through `conn`."""
        ...

    def disconnect(self, conn: Connection) -> None:
        """Forget a console that went away."""
        ...

    # --- the integrations' side -----------------------------------------------------------------

    async def record(
        self,
        incident_id: int,
        body: EventBody,
        actor: str = SERVER_ACTOR,
        command_id: str | None = None,
    ) -> int:
        """Append an event as the server itself; returns its seq once committed."""
        ...

    def incident_state(self, incident_id: int) -> IncidentState | None:
        """The committed state of an incident; do not mutate it."""
        ...

    @property
    def states(self) -> list[IncidentState]:
        """Every incident's committed state, in id order."""
        ...

    @property
    def summaries(self) -> list[IncidentSummary]:
        """Every incident's line in the list, live or closed, in id order."""
        ...

    async def read_state(self, incident_id: int) -> IncidentState | None:
        """An incident's committed state, read from the store if it is not in memory."""
        ...

    def add_observer(
        self,
        observer: Callable[[list[Event]], None],
        *,
        other_nodes: bool = True,
        kinds: frozenset[str] | None = None,
        when: Callable[[], bool] | None = None,
    ) -> None:
        """Call `observer` with every batch of committed events, also those other nodes on a
        shared database committed (unless `other_nodes` is False; of theirs, only the kinds
        in `kinds`, None: all, and only while `when` says True); it must only schedule work."""
        ...

    def send_to_followers(self, incident_id: int, frame: str) -> None:
        """Send a frame to every console following the incident (on this node)."""
        ...

    def route(self, frame_type: type[Any], handler: ReadHandler) -> None:
        """Answer reads of `frame_type` with `handler`."""
        ...

    def on_subscribe(self, hook: Callable[[Connection, int], None]) -> None:
        """Call `hook` after a console subscribed to an incident and got its state."""
        ...

    def attach_triage(self, book: TriageBook) -> None:
        """Decide declarations from triage items and triage commands against `book`."""
        ...

    def attach_metrics(self, source: MetricsSource) -> None:
        """Pin the snapshots `source` holds."""
        ...
