"""A client that sends what only the server sends (`compact_events`, `events`, `snapshot`,
`welcome`, `ack`), or asks for a compact catch-up in ways the protocol does not have: each gets a
clear error, the connection stays usable, and the incident is unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.core.wire import Peer
from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]


def _server_frames(incident: int) -> list[dict[str, Any]]:
    on = {"incident_id": incident}
    row = [incident + 1, "2024-05-01T14:00:00Z", "alice", None, "note", "forged", None, [], {}]
    return [
        {"type": "compact_events", **on, "events": [row]},
        {"type": "compact_events", **on, "events": "\x1b[2J" * 1000},
        {"type": "events", **on, "events": [{"seq": 2, "body": {"type": "entry_added"}}]},
        {"type": "snapshot", **on, "seq": 99, "state": {}},
        {"type": "welcome", "user": "root", "features": ["compact"]},
        {"type": "ack", **on, "seq": 2},
    ]


@pytest.mark.parametrize("which", range(6))
async def test_a_frame_only_the_server_sends_is_refused_as_unknown_and_changes_nothing(
    server: WarroomNode, add_user: AddUser, which: int
) -> None:
    peer = await Peer.open(server.url, await add_user("mallory"))
    incident = await peer.declare()
    before = await peer.request({"type": "read_log", "incident_id": incident})
    reply = await peer.request(_server_frames(incident)[which])
    assert reply["type"] == "error", reply
    assert reply["code"] == "unknown_type", reply
    after = await peer.request({"type": "read_log", "incident_id": incident})
    assert after["events"] == before["events"]
    await peer.close()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"compact": None}, "invalid"),
        ({"compact": {"yes": True}}, "invalid"),
        ({"compact": [True]}, "invalid"),
        ({"compact": True, "since": -1}, "invalid"),
        ({"compact": True, "incident_id": 10**6}, "unknown_incident"),
        ({"compact": True, "incident_id": 2**63}, "unknown_incident"),
    ],
)
async def test_a_hostile_compact_subscribe_is_refused_and_the_connection_still_follows(
    server: WarroomNode, add_user: AddUser, change: dict[str, Any], code: str
) -> None:
    peer = await Peer.open(server.url, await add_user("mallory"))
    incident = await peer.declare()
    reply = await peer.request({"type": "subscribe", "incident_id": incident, **change})
    assert reply["type"] == "error", reply
    assert reply["code"] == code, reply
    # The same connection still catches up, compactly, when it asks properly.
    good = await peer.request({"type": "subscribe", "incident_id": incident, "compact": True})
    assert good["type"] in {"compact_events", "snapshot"}, good
    await peer.close()


async def test_a_compact_subscribe_since_past_any_seq_gets_a_snapshot_as_any_since_past_the_head(
    server: WarroomNode, add_user: AddUser
) -> None:
    peer = await Peer.open(server.url, await add_user("mallory"))
    incident = await peer.declare()
    reply = await peer.request(
        {"type": "subscribe", "incident_id": incident, "since": 10**30, "compact": True}
    )
    assert reply["type"] == "snapshot", reply
    assert reply["seq"] == reply["head"] == 1
    await peer.close()
