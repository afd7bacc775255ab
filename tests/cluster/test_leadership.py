"""One node of a PostgreSQL war room runs the integrations; another takes over when it dies.

Real nodes on one real PostgreSQL database; real HTTP servers stand in for PagerDuty and
Alertmanager and record what reaches them; the leader that dies is a child process, SIGKILLed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.core.serverproc import free_port
from tests.support.client_sync import until
from tests.support.node_proc import NodeProc
from tests.support.recording_server import RecordingServer, Reply
from tests.support.reminder_room import FrozenClock
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.client.updates import ConnectionStatus
from warroom.config import ServerConfig
from warroom.domain.commands import DeclareIncident, SetPhase
from warroom.domain.phase import Phase
from warroom.monitoring.poller import PollOutcome
from warroom.node import WarroomNode, start_node
from warroom.server.http_endpoints import HttpSettings
from warroom.store.leadership import LEADER_LOCK, RETRY_SECONDS
from warroom.users import create_user

ROUTING_KEY = "R0UT1NGKEY0000000000000000000001"
TAKEOVER_WITHIN = 15.0
"""Seconds a follower may take to lead after the leader died: a few lock retries on a busy box."""


@pytest.fixture
def pagerduty() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(202, {"status": "success", "dedup_key": "x"})) as running:
        yield running


def alertmanager() -> RecordingServer:
    return RecordingServer(Reply(200, []))


async def became_leader(node: WarroomNode) -> None:
    """Wait for `node` to take the leadership (an event, not a poll)."""
    led = asyncio.Event()
    node.leadership.on_change(lambda leading: led.set() if leading else None)
    if not node.leadership.is_leader:
        async with asyncio.timeout(TAKEOVER_WITHIN):
            await led.wait()


TURNS = 3
"""Alertmanager polls each node takes in the test of who polls: the leader's ask twice each
(the alert groups, then when Alertmanager started), the follower's skip without a request."""


def turns_taken(node: WarroomNode, count: int) -> asyncio.Event:
    """Set once `node`'s Alertmanager poller has ended `count` more turns (asking or skipping)."""
    poller = node.integrations.alert_poller
    assert poller is not None
    ended = asyncio.Event()
    target = poller.polls + count
    deliver = poller._on_outcome

    def counted(outcome: PollOutcome[None]) -> Awaitable[None] | None:
        # `polls` counts a turn just after its outcome is delivered: this is that turn.
        if poller.polls + 1 >= target:
            ended.set()
        return deliver(outcome)

    poller._on_outcome = counted
    return ended


async def test_two_nodes_on_one_database_have_one_integrations_leader(pg_url: str) -> None:
    http = HttpSettings(port=0)
    async with (
        await start_node(pg_url, TEST_SETTINGS, http=http) as first,
        await start_node(pg_url, TEST_SETTINGS, http=HttpSettings(port=0)) as second,
    ):
        assert first.leadership.is_leader
        assert not second.leadership.is_leader
        assert b"warroom_integrations_leader 1.0" in first.metrics.exposition()[0]
        assert b"warroom_integrations_leader 0.0" in second.metrics.exposition()[0]
        async with httpx.AsyncClient() as web:
            assert first.http is not None
            assert second.http is not None
            lead = await web.get(f"http://127.0.0.1:{first.http.port}/readyz")
            follow = await web.get(f"http://127.0.0.1:{second.http.port}/readyz")
        assert lead.text == "ready\nintegrations: this node (leader)\n"
        assert follow.text == "ready\nintegrations: another node (follower)\n"


async def test_a_sqlite_node_always_runs_its_integrations(db_path: Path) -> None:
    async with await start_node(db_path, TEST_SETTINGS) as node:
        assert node.leadership.is_leader


async def test_only_the_leader_polls_alertmanager_and_a_follower_takes_over(pg_url: str) -> None:
    with alertmanager() as am_first, alertmanager() as am_second:
        # Each node gets its own stand-in, so what reaches each one tells which node polled.
        def config(am: RecordingServer) -> ServerConfig:
            return ServerConfig.model_validate(
                {"alertmanager": {"url": am.url, "poll_seconds": 0.05}}
            )

        first = await start_node(pg_url, TEST_SETTINGS, config=config(am_first))
        async with await start_node(pg_url, TEST_SETTINGS, config=config(am_second)) as second:
            try:
                # Turns counted, not time: a turn starts at least `min_pause` (1 s) after the
                # last one ended, so "40 requests within 20 s" asked for nearly every turn the
                # 20 s allow and failed on a busy machine. The follower's turns it skipped.
                follower_turns = turns_taken(second, TURNS)
                await am_first.wait_for_requests(2 * TURNS, timeout=TAKEOVER_WITHIN * TURNS)
                async with asyncio.timeout(TAKEOVER_WITHIN * TURNS):
                    await follower_turns.wait()
                assert am_second.requests == [], "a follower polled Alertmanager"
            finally:
                stopped = time.monotonic()
                await first.close()
            await became_leader(second)
            await am_second.wait_for_requests(1, timeout=TAKEOVER_WITHIN)
            print(f"\ntakeover after a clean stop: {time.monotonic() - stopped:.2f} s")


async def test_the_leader_killed_a_follower_takes_over_and_no_page_is_sent_twice(
    pg_url: str, pagerduty: RecordingServer, tmp_path: Path
) -> None:
    config_file = tmp_path / "warroom.toml"
    config_file.write_text(
        "[pagerduty]\n"
        f'routing_key = "{ROUTING_KEY}"\n'
        f'events_url = "{pagerduty.url}/v2/enqueue"\n'
        "retry = { max_attempts = 3, initial_delay = 0, max_delay = 0 }\n"
    )
    config = ServerConfig.model_validate(
        {
            "pagerduty": {
                "routing_key": ROUTING_KEY,
                "events_url": f"{pagerduty.url}/v2/enqueue",
                "retry": {"max_attempts": 3, "initial_delay": 0, "max_delay": 0},
            }
        }
    )
    token = await create_user(pg_url, "dana")
    leader = NodeProc(pg_url, free_port(), tmp_path / "leader.log", config_file)
    await leader.start()  # first on the database: it leads before it listens
    follower_port = free_port()
    client = WarroomClient(f"{leader.url},ws://127.0.0.1:{follower_port}", token, max_backoff=0.2)
    try:
        await client.start()
        declared = await client.execute(
            DeclareIncident(id=new_id(), title="Checkout down", severity=1)
        )
        incident = declared.incident_id
        await client.follow(incident)
        (trigger,) = await pagerduty.wait_for_requests(1)
        assert trigger.json()["event_action"] == "trigger"
        # Started after the declaration, it knows the incident from the database alone.
        settings = dataclasses.replace(TEST_SETTINGS, port=follower_port)
        async with await start_node(pg_url, settings, config=config) as follower:
            assert not follower.leadership.is_leader
            killed = time.monotonic()
            leader.kill()
            await until(
                client,
                lambda: client.status is ConnectionStatus.CONNECTED and client.url == follower.url,
                what="the console on the follower",
            )
            resumed = time.monotonic() - killed
            await became_leader(follower)
            took = time.monotonic() - killed
            # The console moves to the follower; its next change is the new leader's to send.
            await client.execute(
                SetPhase(
                    id=new_id(),
                    incident_id=incident,
                    phase=Phase.INVESTIGATING,
                    expected=Phase.DECLARED,
                )
            )
            assert client.url == follower.url
            await follower.integrations.idle()
            actions = [r.json()["event_action"] for r in await pagerduty.wait_for_requests(2)]
            assert actions == ["trigger", "acknowledge"]
            print(
                f"\nleader SIGKILLed: console resumed on the follower after {resumed:.2f} s, "
                f"follower led after {took:.2f} s (lock retried every {RETRY_SECONDS} s)"
            )
    finally:
        await client.close()
        leader.stop()


async def test_only_the_leader_writes_an_overdue_reminder(pg_url: str) -> None:
    clock = FrozenClock(datetime(2024, 5, 2, 14, 0, tzinfo=UTC))
    token = await create_user(pg_url, "alice")
    async with await start_node(pg_url, TEST_SETTINGS, clock=clock) as leader:
        client = WarroomClient(leader.url, token)
        await client.start()
        try:
            declared = await client.execute(
                DeclareIncident(id=new_id(), title="Payments", severity=1)
            )
        finally:
            await client.close()
        # Started after the declaration, the follower knows the incident from the database.
        async with await start_node(pg_url, TEST_SETTINGS, clock=clock) as follower:
            assert follower.hub.incident_state(declared.incident_id) is not None
            clock.at(16)  # a SEV1 owes an update every 15 minutes
            assert await follower.integrations.reminders.tick() == 0
            assert await leader.integrations.reminders.tick() == 1


async def test_a_leader_whose_database_session_is_cut_stops_leading_and_one_node_leads_again(
    pg_url: str,
) -> None:
    async with (
        await start_node(pg_url, TEST_SETTINGS) as first,
        await start_node(pg_url, TEST_SETTINGS) as second,
    ):
        assert first.leadership.is_leader
        lost, regained = asyncio.Event(), asyncio.Event()
        first.leadership.on_change(lambda leading: regained.set() if leading else lost.set())
        second.leadership.on_change(lambda leading: regained.set() if leading else None)
        # What a network cut or a database restart does to the leader's session.
        conn = await asyncpg.connect(pg_url)
        try:
            cut = await conn.fetchval(
                "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1",
                LEADER_LOCK & 0xFFFFFFFF,
            )
        finally:
            await conn.close()
        assert cut == 1
        async with asyncio.timeout(TAKEOVER_WITHIN):
            await lost.wait()
            await regained.wait()
        # Whichever asked first after the cut leads; never both.
        assert [first.leadership.is_leader, second.leadership.is_leader].count(True) == 1
