"""The integrations' leader acts on writes taken by any node: a declaration made through a
follower pages on-call once, from the leader (real nodes on one PostgreSQL, a recording server
standing in for PagerDuty)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.recording_server import RecordingServer, Reply
from tests.support.settings import TEST_SETTINGS
from warroom.client.session import WarroomClient, new_id
from warroom.config import ServerConfig
from warroom.domain.commands import DeclareIncident
from warroom.node import start_node
from warroom.users import create_user

ROUTING_KEY = "R0UT1NGKEY0000000000000000000002"


@pytest.fixture
def pagerduty() -> Iterator[RecordingServer]:
    with RecordingServer(Reply(202, {"status": "success", "dedup_key": "x"})) as running:
        yield running


async def test_a_declaration_on_a_follower_pages_once_from_the_leader(
    pg_url: str, pagerduty: RecordingServer
) -> None:
    config = ServerConfig.model_validate(
        {"pagerduty": {"routing_key": ROUTING_KEY, "events_url": f"{pagerduty.url}/v2/enqueue"}}
    )
    token = await create_user(pg_url, "dana")
    async with (
        await start_node(pg_url, TEST_SETTINGS, config=config) as leader,
        await start_node(pg_url, TEST_SETTINGS, config=config) as follower,
    ):
        assert leader.leadership.is_leader
        assert not follower.leadership.is_leader
        client = WarroomClient(follower.url, token)
        await client.start()
        try:
            await client.execute(DeclareIncident(id=new_id(), title="Checkout down", severity=1))
        finally:
            await client.close()
        (trigger,) = await pagerduty.wait_for_requests(1)
        assert trigger.json()["event_action"] == "trigger"
        await leader.integrations.idle()
        await follower.integrations.idle()
        assert len(pagerduty.requests) == 1
