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
from warroom.users import create_user

CAST = {"dana": Role.CL, "sam": Role.TL, "lee": Role.TL, "riley": Role.SCRIBE}
SERVICES = {"sam": "payments-api", "lee": "api-gateway"}

DEPLOY_MINUTES_AGO = 16
"""The bad deploy, before the declaration; the first alert fires two minutes after it."""
FIRST_ALERT_MINUTES_AGO = DEPLOY_MINUTES_AGO - 2
"""The payments alert: errors began two minutes after the deploy, as the TL's entry says."""


def deploy_time(now: datetime) -> str:
    """The deploy's wall time as the demo's text names it ("13:58 UTC"), derived from `now` so
    that the text always agrees with the times the demo's events carry."""
    return f"{now - timedelta(minutes=DEPLOY_MINUTES_AGO):%H:%M} UTC"


async def seed_demo(server: WarroomNode, db: Path, you: str, your_token: str) -> int:
    """Fill a SEV1 incident with roles, alerts, timeline, metrics and checklist; return its id."""
    tokens = {name: await create_user(db, name) for name in CAST}
    clients = {you: WarroomClient(server.url, your_token)}
    clients.update({name: WarroomClient(server.url, t) for name, t in tokens.items()})
    for client in clients.values():
        await client.start()
    try:
        return await _script(server, clients, you)
    finally:
        for client in clients.values():
            await client.close()


async def _script(server: WarroomNode, clients: dict[str, WarroomClient], you: str) -> int:
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    async def do(who: str, command: Command) -> int:
        return (await clients[who].execute(command)).seq

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

    async def alert(text: str, minutes_ago: int) -> None:
        await server.hub.record(
            inc,
            EntryAdded(
                kind=EntryKind.ALERT, text=text, occurred_at=now - timedelta(minutes=minutes_ago)
            ),
        )

    def entry(kind: EntryKind, text: str, minutes_ago: int, cid: str | None = None) -> AddEntry:
        return AddEntry(
            id=new_id(),
            incident_id=inc,
            kind=kind,
            text=text,
            occurred_at=now - timedelta(minutes=minutes_ago),
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
    snapshot = metrics_snapshot(now)
    await server.hub.record(
        inc,
        EntryAdded(
            kind=EntryKind.METRICS,
            text=snapshot.to_text(include_queries=False),
            occurred_at=now - timedelta(minutes=5),
        ),
    )
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
