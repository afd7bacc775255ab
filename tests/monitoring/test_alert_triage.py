"""Alerts you can trust, against a real Alertmanager with the documented route (no `group_by`):
one triage item per alert, a resolution recorded when the alert resolves and only when
Alertmanager says so, webhook deliveries reaching triage, labels carried into the incident."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.client_sync import until
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.commands import DeclareIncident, SetPhase
from warroom.domain.phase import Phase
from warroom.domain.timeline import EntryKind
from warroom.domain.triage import AlertState, SourceState, TriageItem
from warroom.node import WarroomNode, start_node
from warroom.server.http_endpoints import WEBHOOK_PATH, HttpSettings
from warroom.users import create_user

from .own_alertmanager import OwnAlertmanager
from .waiting import free_port

TOKEN = "webhook-secret-for-the-tests"
WAIT = 30.0
"""Seconds: Alertmanager's group wait plus a few polls, with room for a loaded machine."""


@pytest.fixture
async def am(tmp_path: Path) -> AsyncIterator[OwnAlertmanager]:
    """This test's own Alertmanager, configured and started by `war_room`."""
    workdir = tmp_path / "alertmanager"
    workdir.mkdir()
    process = OwnAlertmanager(workdir, free_port())
    yield process
    await process.stop()


@pytest.fixture
def started() -> datetime:
    """When the test's alerts started firing: a while ago, as alerts that page someone."""
    return datetime.now(UTC) - timedelta(minutes=2)


@asynccontextmanager
async def war_room(
    db_path: Path,
    am: OwnAlertmanager,
    *,
    poll: bool = True,
    webhook: bool = False,
    group_by: list[str] | None = None,
) -> AsyncIterator[tuple[WarroomNode, WarroomClient]]:
    """A node reading `am` (polling and/or pushed to), `am` started, a client following triage."""
    section: dict[str, object] = {"poll_seconds": 0.3}
    if group_by is not None:
        section["group_by"] = group_by
    if poll:
        section["url"] = am.url
    if webhook:
        section["webhook_token"] = TOKEN
    config = ServerConfig.model_validate({"alertmanager": section})
    token = await create_user(db_path, "oncall")
    async with await start_node(
        db_path, TEST_SETTINGS, config=config, http=HttpSettings(port=0)
    ) as node:
        assert node.http is not None
        am.configure(node.http.url + WEBHOOK_PATH if webhook else None, TOKEN)
        await am.start()
        client = WarroomClient(node.url, token)
        await client.start()
        await client.follow_triage()
        try:
            yield node, client
        finally:
            await client.close()


def items(client: WarroomClient) -> list[TriageItem]:
    return list(client.triage.items) if client.triage else []


def item_named(client: WarroomClient, name: str) -> TriageItem | None:
    return next((i for i in items(client) if i.labels.get("alertname") == name), None)


def alert_texts(client: WarroomClient, incident_id: int) -> list[str]:
    state = client.states.get(incident_id)
    return [e.text for e in state.timeline if e.kind is EntryKind.ALERT] if state else []


def has_alert_entry(client: WarroomClient, incident_id: int, opening: str) -> bool:
    """Whether the incident's timeline holds an alert entry that opens with `opening`."""
    return any(t.startswith(opening) for t in alert_texts(client, incident_id))


def seen_as(client: WarroomClient, name: str, source: SourceState, alert: AlertState) -> bool:
    """Whether triage shows its source in state `source` and the item of `name` with one alert,
    in state `alert`."""
    current = item_named(client, name)
    assert client.triage is not None
    return (
        current is not None
        and client.triage.source.state is source
        and [a.state for a in current.alerts.values()] == [alert]
    )


async def item_listed(client: WarroomClient, name: str) -> TriageItem:
    """The triage item of the alert `name`, once triage lists it."""
    await until(client, lambda: item_named(client, name) is not None, WAIT, what=f"{name} listed")
    item = item_named(client, name)
    assert item is not None
    return item


async def alerts_listed(client: WarroomClient, count: int) -> None:
    """Until triage lists `count` alerts, on however many items."""
    await until(
        client,
        lambda: sum(len(i.alerts) for i in items(client)) == count,
        WAIT,
        what=f"{count} alerts on triage",
    )


async def declare(client: WarroomClient, item: TriageItem) -> int:
    """Declare an incident from `item` and follow it, failing clearly if either never ends."""
    command = DeclareIncident(
        id=new_id(), title=item.title, severity=item.proposed_severity, triage_id=item.id
    )
    async with bounded(f"the ack of declaring from triage item {item.id}"):
        ack = await client.execute(command)
    async with bounded(f"the state of incident {ack.incident_id} after following it"):
        await client.follow(ack.incident_id)
    return ack.incident_id


@asynccontextmanager
async def bounded(what: str) -> AsyncIterator[None]:
    """Fail with `what` was awaited if the block takes over `WAIT` seconds."""
    try:
        async with asyncio.timeout(WAIT):
            yield
    except TimeoutError:
        raise AssertionError(f"timed out after {WAIT:g} s waiting for {what}") from None


def soon() -> datetime:
    """An `endsAt` for a firing alert, as Prometheus sets it (a few minutes out)."""
    return datetime.now(UTC) + timedelta(minutes=10)


LATENCY = {"alertname": "HighLatency", "service": "checkout", "severity": "critical"}
ERRORS = {"alertname": "HighErrorRate", "service": "cart", "severity": "warning"}


async def test_two_alerts_in_one_default_group_make_two_items(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    async with war_room(db_path, am) as (_, client):
        await am.send(LATENCY, started, soon())
        await am.send(ERRORS, started, soon())
        await until(client, lambda: len(items(client)) == 2, WAIT, what="two triage items")
        latency, errors = item_named(client, "HighLatency"), item_named(client, "HighErrorRate")
        assert latency is not None
        assert errors is not None
        assert latency.id != errors.id
        assert [a.name for a in latency.alerts.values()] == ["HighLatency"]
        assert [a.name for a in errors.alerts.values()] == ["HighErrorRate"]
        assert latency.group_key != errors.group_key


async def test_an_alert_resolving_inside_a_firing_group_is_recorded_at_its_end(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    async with war_room(db_path, am, poll=False, webhook=True) as (_, client):
        await am.send(LATENCY, started, soon())
        await am.send(ERRORS, started, soon())
        await until(client, lambda: len(items(client)) == 2, WAIT, what="two triage items")
        incident = await declare(client, await item_listed(client, "HighLatency"))
        await until(
            client,
            lambda: has_alert_entry(client, incident, "FIRING HighLatency"),
            WAIT,
            what="the FIRING entry",
        )

        # The source resolves one alert of the (single, default) group; the other still fires.
        ended = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        await am.send(LATENCY, started, ended)

        await until(
            client,
            lambda: has_alert_entry(client, incident, "RESOLVED HighLatency"),
            WAIT,
            what="the RESOLVED entry",
        )
        state = client.states[incident]
        (entry,) = [e for e in state.timeline if e.text.startswith("RESOLVED HighLatency")]
        assert entry.occurred_at == ended
        latency = item_named(client, "HighLatency")
        errors = item_named(client, "HighErrorRate")
        assert latency is not None
        assert errors is not None
        (alert,) = latency.alerts.values()
        assert (alert.state, alert.ends_at) == (AlertState.RESOLVED, ended)
        assert errors.firing


async def test_an_alertmanager_restart_writes_no_resolution(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    async with war_room(db_path, am) as (_, client):
        await am.send(LATENCY, started, soon())
        incident = await declare(client, await item_listed(client, "HighLatency"))
        await until(client, lambda: len(alert_texts(client, incident)) == 1, WAIT)

        await am.restart()  # Alertmanager keeps no alerts across a restart

        await until(
            client,
            lambda: seen_as(client, "HighLatency", SourceState.RESTARTED, AlertState.UNCONFIRMED),
            WAIT,
            what="the alert unconfirmed after the restart",
        )
        assert alert_texts(client, incident) == [alert_texts(client, incident)[0]]

        await am.send(LATENCY, started, soon())  # the source re-sends it, as Prometheus does

        await until(
            client,
            lambda: seen_as(client, "HighLatency", SourceState.OK, AlertState.FIRING),
            WAIT,
            what="the alert confirmed firing",
        )
        texts = alert_texts(client, incident)
        assert len(texts) == 1
        assert texts[0].startswith("FIRING HighLatency")
        assert len(items(client)) == 1


async def test_resolving_the_incident_leaves_its_firing_alert_on_the_incident(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    async with war_room(db_path, am) as (_, client):
        await am.send(ERRORS, started, soon())
        item = await item_listed(client, "HighErrorRate")
        incident = await declare(client, item)
        await client.execute(
            SetPhase(
                id=new_id(),
                incident_id=incident,
                phase=Phase.RESOLVED,
                expected=Phase.DECLARED,
                reason="fixed, we think",
            )
        )

        await until(
            client,
            lambda: has_alert_entry(client, incident, "STILL FIRING HighErrorRate"),
            WAIT,
            what="the STILL FIRING entry",
        )
        # A few more polls of the still-firing alert: never a resolution, never a new item.
        checked = client.triage.source.checked_at if client.triage else None
        await until(
            client,
            lambda: client.triage is not None and client.triage.source.checked_at != checked,
            WAIT,
        )
        assert not has_alert_entry(client, incident, "RESOLVED")
        assert [i.id for i in items(client)] == [item.id]
        current = item_named(client, "HighErrorRate")
        assert current is not None
        assert current.firing


async def test_a_webhook_delivery_reaches_triage_and_labels_carry_into_the_incident(
    db_path: Path, am: OwnAlertmanager
) -> None:
    annotations = {"summary": "Checkout p99 above 2 s", "description": "Users wait at checkout."}
    async with war_room(db_path, am, poll=False, webhook=True) as (node, client):
        sent = time.monotonic()
        await am.send(LATENCY, datetime.now(UTC) - timedelta(seconds=5), soon(), annotations)
        item = await item_listed(client, "HighLatency")
        # Reported, not asserted: Alertmanager's group_wait (1 s here) is most of it.
        print(f"alert sent to Alertmanager -> triage item: {time.monotonic() - sent:.3f} s")
        assert node.http is not None
        assert node.http.deliveries >= 1
        assert client.triage is not None
        assert client.triage.source.webhook_at is not None

        incident = await declare(client, item)

        def carried_over() -> bool:
            state = client.states.get(incident)
            return state is not None and bool(state.incident.services and state.incident.summary)

        await until(client, carried_over, WAIT, what="the service and summary on the incident")
        state = client.states[incident]
        assert state.incident.services == ["checkout"]
        assert state.incident.summary == "Checkout p99 above 2 s\n\nUsers wait at checkout."


def alert_state(client: WarroomClient, name: str) -> AlertState | None:
    item = item_named(client, name)
    return next(iter(item.alerts.values())).state if item and item.alerts else None


async def test_a_silenced_alert_opens_no_item_and_a_silenced_item_shows_suppressed(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    """Decided: a silence (or an inhibition) is Alertmanager's `suppressed` state, shown as such
    on the item; it never resolves the alert, and an alert already silenced makes no item."""
    async with war_room(db_path, am) as (_, client):
        await am.send(LATENCY, started, soon())
        await until(
            client,
            lambda: alert_state(client, "HighLatency") is AlertState.FIRING,
            WAIT,
            what="HighLatency firing",
        )
        latency = item_named(client, "HighLatency")
        assert latency is not None
        incident = await declare(client, latency)

        await am.silence("alertname", "HighErrorRate")
        await am.send(ERRORS, started, soon())
        await am.silence("alertname", "HighLatency")  # after HighErrorRate is listed, silenced
        await until(
            client,
            lambda: alert_state(client, "HighLatency") is AlertState.SUPPRESSED,
            WAIT,
            what="HighLatency suppressed",
        )
        assert item_named(client, "HighErrorRate") is None, "a silenced alert made an item"
        latency = item_named(client, "HighLatency")
        assert latency is not None
        assert latency.firing, "a silence is not a resolution"
        assert latency.state_words() == "suppressed"
        # Entries a poll writes reach the incident before the triage list that poll changed.
        assert has_alert_entry(client, incident, "FIRING HighLatency")
        assert not has_alert_entry(client, incident, "RESOLVED")


async def test_alerts_sharing_the_configured_group_by_labels_make_one_item(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    same_service = {**ERRORS, "service": LATENCY["service"]}
    async with war_room(db_path, am, group_by=["service"]) as (_, client):
        await am.send(LATENCY, started, soon())
        await am.send(same_service, started, soon())
        await alerts_listed(client, 2)
        (item,) = items(client)
        assert sorted(a.name for a in item.alerts.values()) == ["HighErrorRate", "HighLatency"]


async def test_without_group_by_alerts_sharing_a_service_make_two_items(
    db_path: Path, am: OwnAlertmanager, started: datetime
) -> None:
    same_service = {**ERRORS, "service": LATENCY["service"]}
    async with war_room(db_path, am) as (_, client):
        await am.send(LATENCY, started, soon())
        await am.send(same_service, started, soon())
        await alerts_listed(client, 2)
        assert len(items(client)) == 2
