"""A real server on 127.0.0.1 with a fixed cast, and helpers that wait for events, never sleep."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerFailed

# One `until` for every suite; the console tests import it from here with their other helpers.
from tests.support.client_sync import until as until
from warroom.client.outbox import Outbox
from warroom.client.session import WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.checklist import ItemState
from warroom.domain.commands import (
    AddEntry,
    AssignRole,
    DeclareIncident,
    IncidentCommand,
    SetItemState,
    SetSeverity,
)
from warroom.domain.incident import IncidentState
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.node import WarroomNode, start_node
from warroom.server.app import ServerSettings
from warroom.tui.app import WarroomApp, make_app
from warroom.tui.widgets.timeline_view import TimelineView
from warroom.users import create_user

T0 = datetime(2024, 5, 2, 14, 0, tzinfo=UTC)
"""When the test incident is declared (server time)."""
APP_NOW = T0 + timedelta(minutes=20)
"""The frozen app clock: 20 minutes into the incident, so a SEV1 update is overdue."""
CAST = ("alice", "bob", "carol", "dave", "erin")
"""alice is IC, bob CL, carol TL (payments-api), dave Scribe, erin an observer."""


class StepClock:
    """A server clock that moves one second per reading, so event times never depend on the
    wall clock and stay the same from run to run."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start

    def __call__(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now

    def jump_to(self, moment: datetime) -> None:
        """Continue from `moment` (for events that should happen "now" on the app's clock)."""
        self._now = moment


@dataclass
class Warroom:
    """A server with the cast's tokens, and every client started against it."""

    tmp: Path
    db: Path
    tokens: dict[str, str]
    settings: ServerSettings
    server: WarroomNode
    clients: list[WarroomClient] = field(default_factory=list)
    clock: StepClock = field(default_factory=StepClock)
    config: ServerConfig = field(default_factory=ServerConfig)

    async def client(self, user: str, *, outbox: bool = True) -> WarroomClient:
        """A started, connected client for `user`, with its own outbox file unless `outbox` is
        False (a bulk seeder need not fsync every write)."""
        client = WarroomClient(
            self.server.url,
            self.tokens[user],
            outbox=Outbox(self.tmp / f"outbox-{user}-{len(self.clients)}.jsonl")
            if outbox
            else None,
            max_backoff=0.2,  # reconnect promptly once the test restarts the server
        )
        self.clients.append(client)
        await client.start()
        return client

    async def app(self, user: str, incident_id: int | None, theme: str | None = None) -> WarroomApp:
        """The app exactly as users get it: `make_app` around a started client."""
        client = await self.client(user)
        return make_app(client, incident_id=incident_id, theme=theme, clock=lambda: APP_NOW)

    async def restart(self) -> None:
        """Start the server again on the same database and port."""
        self.server = await start_node(self.db, self.settings, clock=self.clock, config=self.config)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self.server.close()


async def start_warroom(
    tmp: Path, settings: ServerSettings | None = None, config: ServerConfig | None = None
) -> Warroom:
    """A server with the cast. The injected clock turns the integrations' timers off, so
    nothing polls Prometheus or Alertmanager on its own: tests drive them."""
    db = tmp / "warroom.db"
    tokens = {name: await create_user(db, name) for name in CAST}
    clock = StepClock()
    config = config or ServerConfig()
    server = await start_node(db, settings or ServerSettings(port=0), clock=clock, config=config)
    # Pin the port so a restart comes back where the clients reconnect to.
    pinned = ServerSettings(
        host=server.settings.host, port=server.port, rate=server.settings.rate,
        burst=server.settings.burst, limits=server.settings.limits,
    )  # fmt: skip
    return Warroom(tmp, db, tokens, pinned, server, clock=clock, config=config)


async def seed_incident(client: WarroomClient) -> int:
    """The payment outage every test works on; returns its id. `client` must be alice's."""
    ack = await client.execute(
        DeclareIncident(
            id=new_id(), title="Payment processing down", severity=Severity.SEV2,
            summary="Card payments fail at checkout",
        )
    )  # fmt: skip
    incident = ack.incident_id
    commands: list[IncidentCommand] = [
        SetSeverity(id=new_id(), incident_id=incident, severity=Severity.SEV1,
                    expected=Severity.SEV2, reason="all card payments failing"),
        AssignRole(id=new_id(), incident_id=incident, role=Role.CL, user="bob"),
        AssignRole(id=new_id(), incident_id=incident, role=Role.TL, user="carol",
                   service="payments-api"),
        AssignRole(id=new_id(), incident_id=incident, role=Role.SCRIBE, user="dave"),
        AddEntry(id=new_id(), incident_id=incident, kind=EntryKind.DECISION,
                 text="Roll back payments-api to v2.3.1", correlation_id="req-8f3a"),
        SetItemState(id=new_id(), incident_id=incident, item_id=1,
                     state=ItemState.IN_PROGRESS, expected=ItemState.TODO),
    ]  # fmt: skip
    for command in commands:
        await client.execute(command)
    return incident


async def until_state(
    client: WarroomClient,
    incident_id: int,
    predicate: Callable[[IncidentState], bool],
    timeout: float = 10.0,
) -> None:
    """Wait until the client's copy of the incident satisfies `predicate`."""

    def holds() -> bool:
        state = client.states.get(incident_id)
        return state is not None and predicate(state)

    await until(client, holds, timeout)


async def settle(pilot: Pilot[None]) -> None:
    """Let the app handle what the client posted and repaint."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def settle_refused(pilot: Pilot[None]) -> None:
    """Like `settle`, when a worker is expected to fail: the server refused its request, and the
    app's worker handler is what shows it."""
    with contextlib.suppress(WorkerFailed):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def static_text(app: WarroomApp, selector: str) -> str:
    """The plain text a `Static` shows."""
    return str(app.screen.query_one(selector, Static).content)


def timeline_lines(app: WarroomApp) -> list[str]:
    """The timeline view's lines as drawn right now (characters on screen), without the blank
    space below the last entry."""
    view = app.screen.query_one(TimelineView)
    lines = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
    while lines and not lines[-1]:
        lines.pop()
    return lines
