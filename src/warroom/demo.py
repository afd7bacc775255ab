"""`warroom demo`: a realistic SEV1 (payment processing down) so a newcomer sees every pane alive.

The demo runs on its own throw-away database, never on a real one. Each person's writes go
through their own client, exactly as on a real call; alerts and the metrics pin are written by the
server itself, as the Alertmanager and Prometheus integrations do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from warroom.client.session import WarroomClient, new_id
from warroom.demo_data import metrics_snapshot, waiting_alert
from warroom.domain.checklist import ItemState
from warroom.domain.commands import (
    AddChecklistItem,
    AddEntry,
    AssignRole,
    Command,
    DeclareIncident,
    DraftExternalUpdate,
    SetItemOwner,
    SetItemState,
    SetPhase,
)
from warroom.domain.communications import PublicState, fill_template
from warroom.domain.events import EntryAdded
from warroom.domain.phase import Phase
from warroom.domain.roles import Role
from warroom.domain.severity import Severity
from warroom.domain.timeline import EntryKind
from warroom.node import WarroomNode
from warroom.server.hub import utc_now
from warroom.users import create_user

CAST = {"dana": Role.CL, "sam": Role.TL, "lee": Role.TL, "riley": Role.SCRIBE}
SERVICES = {"sam": "payments-api", "lee": "api-gateway"}

DEPLOY_MINUTES_AGO = 16
"""The bad deploy, before the declaration; the first alert fires two minutes after it."""
FIRST_ALERT_MINUTES_AGO = DEPLOY_MINUTES_AGO - 2
"""The payments alert: errors began two minutes after the deploy, as the TL's entry says."""
DECLARED_MINUTES_AGO = FIRST_ALERT_MINUTES_AGO - 1
"""The IC declares as the second alert fires; the roles are assigned in the minute after."""


STEP = timedelta(seconds=7)
"""The least time between two of the demo's events, so a replay steps through them one by one."""


class PlayedInClock:
    """The demo server's clock. While the SEV1 is played in it reads the time the story has got
    to, so every event carries the time its entry names and a replay of the demo unfolds over
    minutes, not within one second; afterwards it is the wall clock."""

    def __init__(self) -> None:
        self._at: datetime | None = None

    def __call__(self) -> datetime:
        return self._at or utc_now()

    def move_to(self, at: datetime) -> None:
        """On to `at`, or a step past the last time if that is later: time never runs back."""
        self._at = at if self._at is None else max(at, self._at + STEP)

    def step(self) -> None:
        """A step on from the last time: what someone does takes them a moment."""
        self.move_to(self())

    def release(self) -> None:
        self._at = None


def deploy_time(now: datetime) -> str:
    """The deploy's wall time as the demo's text names it ("13:58 UTC"), derived from `now` so
    that the text always agrees with the times the demo's events carry."""
    return f"{now - timedelta(minutes=DEPLOY_MINUTES_AGO):%H:%M} UTC"


async def seed_demo(
    server: WarroomNode, db: Path, you: str, your_token: str, clock: PlayedInClock
) -> int:
    """Fill a SEV1 incident with roles, alerts, timeline, metrics and checklist; return its id.

    `clock` must be the server's: the story is played in at the times it tells."""
    tokens = {name: await create_user(db, name) for name in CAST}
    clients = {you: WarroomClient(server.url, your_token)}
    clients.update({name: WarroomClient(server.url, t) for name, t in tokens.items()})
    for client in clients.values():
        await client.start()
    try:
        return await _script(server, clients, you, clock)
    finally:
        clock.release()
        for client in clients.values():
            await client.close()


async def _script(
    server: WarroomNode, clients: dict[str, WarroomClient], you: str, clock: PlayedInClock
) -> int:
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def minutes_ago(minutes: float) -> None:
        clock.move_to(now - timedelta(minutes=minutes))

    async def do(who: str, command: Command) -> int:
        clock.step()
        return (await clients[who].execute(command)).seq

    minutes_ago(DECLARED_MINUTES_AGO)
    ack = await clients[you].execute(
        DeclareIncident(
            id=new_id(),
            title="Payment processing down",
            severity=Severity.SEV1,
            summary=(
                "Card payments fail at checkout for most users since the "
                f"{deploy_time(now)} deploy."
            ),
        )
    )
    inc = ack.incident_id

    async def alert(text: str, fired_minutes_ago: int) -> None:
        # Fired before the declaration, filed into the incident just after it.
        clock.step()
        await server.hub.record(
            inc,
            EntryAdded(
                kind=EntryKind.ALERT,
                text=text,
                occurred_at=now - timedelta(minutes=fired_minutes_ago),
            ),
        )

    def entry(kind: EntryKind, text: str, at_minutes_ago: int, cid: str | None = None) -> AddEntry:
        minutes_ago(at_minutes_ago)
        return AddEntry(
            id=new_id(),
            incident_id=inc,
            kind=kind,
            text=text,
            occurred_at=now - timedelta(minutes=at_minutes_ago),
            correlation_id=cid,
        )

    await alert(
        "FIRING PaymentsHighErrorRate: payments-api 5xx ratio 61% (severity=critical)",
        FIRST_ALERT_MINUTES_AGO,
    )
    await alert(
        "FIRING ApiGatewayHigh5xx: 54% of /v1/checkout requests failing",
        FIRST_ALERT_MINUTES_AGO - 1,
    )
    for name, role in CAST.items():
        await do(
            you,
            AssignRole(
                id=new_id(), incident_id=inc, role=role, user=name, service=SERVICES.get(name)
            ),
        )
    await do("riley", entry(EntryKind.NOTE, "Bridge open; @dana owns comms", 12))
    await do(
        "sam",
        entry(
            EntryKind.ACTION,
            f"payments-api v2.14.0 deployed at {deploy_time(now)}; errors began two minutes later",
            11,
            "pay-7f3a9c21",
        ),
    )
    await do(
        "lee",
        entry(
            EntryKind.NOTE,
            "Gateway 5xx are upstream timeouts from payments-api, not the gateway",
            10,
            "gw-19be2240",
        ),
    )
    minutes_ago(9)
    await do(
        you,
        SetPhase(
            id=new_id(),
            incident_id=inc,
            phase=Phase.INVESTIGATING,
            expected=Phase.DECLARED,
            reason="team assembled",
        ),
    )
    await do(you, entry(EntryKind.DECISION, "Roll back payments-api to v2.13.4", 8))
    await do(you, SetItemOwner(id=new_id(), incident_id=inc, item_id=1, owner="sam"))
    minutes_ago(7)
    await do(
        "sam",
        SetItemState(
            id=new_id(),
            incident_id=inc,
            item_id=1,
            state=ItemState.IN_PROGRESS,
            expected=ItemState.TODO,
        ),
    )
    await do(
        "sam",
        SetItemState(
            id=new_id(),
            incident_id=inc,
            item_id=4,
            state=ItemState.NOT_APPLICABLE,
            expected=ItemState.TODO,
        ),
    )
    await do("sam", AddChecklistItem(id=new_id(), incident_id=inc, title="Drain retry queue"))
    await do(
        "dana",
        entry(
            EntryKind.STATUS,
            "Card payments failing for ~60% of checkouts. "
            f"Rolling back the {deploy_time(now)} deploy. Next update in 15 minutes.",
            6,
        ),
    )
    # Read when the entry says it was pinned, not at the end of the script: a snapshot dated
    # after its own entry is a story that contradicts itself.
    pinned_at = now - timedelta(minutes=5)
    snapshot = metrics_snapshot(pinned_at)
    minutes_ago(5)
    await server.hub.record(
        inc,
        EntryAdded(
            kind=EntryKind.METRICS,
            text=snapshot.to_text(include_queries=False),
            occurred_at=pinned_at,
        ),
    )
    minutes_ago(4)
    await do(
        you,
        SetPhase(
            id=new_id(),
            incident_id=inc,
            phase=Phase.MITIGATING,
            expected=Phase.INVESTIGATING,
            reason="rollback running",
        ),
    )
    await do("lee", entry(EntryKind.TODO, "Add a canary gate to the payments-api pipeline", 3))
    await do("riley", entry(EntryKind.TODO, "Alert on payment success rate, not only 5xx", 2))
    await do("sam", entry(EntryKind.ACTION, "Rollback 60% complete; error rate falling", 1))
    minutes_ago(0.5)
    await do(
        "dana",
        DraftExternalUpdate(
            id=new_id(),
            incident_id=inc,
            title="Card payments failing",
            text=fill_template(PublicState.IDENTIFIED, ["Checkout", "Card payments"]),
            state=PublicState.IDENTIFIED,
            components=["Checkout", "Card payments"],
        ),
    )
    # What Prometheus and Alertmanager would have sent by now (see demo_data).
    server.integrations.metrics.latest[inc] = snapshot
    await server.integrations.triage.reconcile([waiting_alert(now)])
    return inc
