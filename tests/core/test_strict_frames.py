"""Client frames are read strictly (a value of the wrong JSON type is refused, never converted),
client times come back in UTC, and `welcome` says which features the server offers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.core.wire import Peer
from tests.support.settings import TEST_SETTINGS
from warroom.config import AlertmanagerSettings, PrometheusSettings, ServerConfig
from warroom.node import WarroomNode, start_node
from warroom.users import create_user

AddUser = Callable[[str], Awaitable[str]]


def frames(incident: int) -> list[tuple[dict[str, Any], str, str]]:
    """(frame, the field the error must name, the JSON type it must say it got)."""
    on = {"incident_id": incident}
    return [
        ({"type": "declare_incident", "title": "t", "severity": True}, "severity", "a boolean"),
        ({"type": "declare_incident", "title": "t", "severity": "2"}, "severity", "a string"),
        ({"type": "declare_incident", "title": "t", "severity": 2.0}, "severity", "a number"),
        ({"type": "declare_incident", "title": 7, "severity": 2}, "title", "a number"),
        (
            {"type": "add_entry", "incident_id": str(incident), "text": "t"},
            "incident_id",
            "a string",
        ),
        (
            {"type": "add_entry", "incident_id": float(incident), "text": "t"},
            "incident_id",
            "a number",
        ),
        ({"type": "add_entry", **on, "text": "t", "occurred_at": 0}, "occurred_at", "a number"),
        ({"type": "add_entry", **on, "text": "t", "tags": "urgent"}, "tags", "a string"),
        ({"type": "add_entry", **on, "text": ["t"]}, "text", "an array"),
        (
            {"type": "set_item_state", **on, "item_id": "1", "state": "done", "expected": "todo"},
            "item_id",
            "a string",
        ),
        (
            {"type": "set_item_state", **on, "item_id": True, "state": "done", "expected": "todo"},
            "item_id",
            "a boolean",
        ),
        (
            {"type": "set_severity", **on, "severity": 1, "expected": False, "reason": ""},
            "expected",
            "a boolean",
        ),
        ({"type": "set_phase", **on, "phase": 1, "expected": "declared"}, "phase", "a number"),
        ({"type": "assign_role", **on, "role": "cl", "user": None}, "user", "null"),
        ({"type": "subscribe", **on, "since": "0"}, "since", "a string"),
        ({"type": "subscribe", **on, "compact": "yes"}, "compact", "a string"),
        ({"type": "subscribe", **on, "compact": 1}, "compact", "a number"),
        ({"type": "subscribe", **on, "compact_snapshot": "yes"}, "compact_snapshot", "a string"),
        ({"type": "subscribe", **on, "compact_snapshot": [True]}, "compact_snapshot", "an array"),
        ({"type": "subscribe", **on, "columnar_snapshot": "y"}, "columnar_snapshot", "a string"),
        ({"type": "approve_external_update", **on, "draft_id": {"id": 1}}, "draft_id", "an object"),
    ]


async def test_wrong_json_types_are_refused_naming_the_field_and_types(
    server: WarroomNode, add_user: AddUser
) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    incident = await peer.declare(severity=3)
    log = await peer.request({"type": "read_log", "incident_id": incident})
    for frame, field, got in frames(incident):
        reply = await peer.request(dict(frame))
        assert reply["type"] == "error", (frame, reply)
        assert reply["code"] == "invalid", (frame, reply)
        assert reply["message"].startswith(f"{field}: Input should be"), reply["message"]
        assert f"(got {got})" in reply["message"], reply["message"]
    # Nothing was declared or written: `severity: true` is not a SEV1.
    listing = await peer.request({"type": "list_incidents"})
    assert [(i["id"], i["severity"]) for i in listing["incidents"]] == [(incident, 3)]
    after = await peer.request({"type": "read_log", "incident_id": incident})
    assert after["events"] == log["events"]
    await peer.close()


async def test_a_time_sent_with_an_offset_is_stored_and_sent_back_in_utc(
    server: WarroomNode, add_user: AddUser
) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    incident = await peer.declare()
    east = timezone(timedelta(hours=5, minutes=30))
    occurred = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    sent = occurred.astimezone(east).isoformat()
    assert sent.endswith("+05:30")
    ack = await peer.request(
        {"type": "add_entry", "incident_id": incident, "text": "t", "occurred_at": sent}
    )
    assert ack["type"] == "ack", ack
    events = (await peer.request({"type": "read_log", "incident_id": incident}))["events"]
    stored = events[-1]["body"]["occurred_at"]
    assert stored == occurred.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert events[-1]["at"].endswith("Z")
    await peer.close()


async def test_an_ancient_occurred_at_is_refused_with_the_window(
    server: WarroomNode, add_user: AddUser
) -> None:
    peer = await Peer.open(server.url, await add_user("alice"))
    incident = await peer.declare()
    reply = await peer.request(
        {
            "type": "add_entry",
            "incident_id": incident,
            "text": "t",
            "occurred_at": "0001-01-01T00:00:00+14:00",
        }
    )
    assert reply["code"] == "invalid"
    assert "occurred_at must be between" in reply["message"]
    assert "(30 days before the declaration)" in reply["message"]
    assert "(5 minutes from now)" in reply["message"]
    assert reply["message"].endswith("got 0001-01-01T00:00:00+14:00")
    await peer.close()


async def test_a_server_without_config_offers_only_compact_catch_up_yet_answers_their_frames(
    server: WarroomNode, add_user: AddUser
) -> None:
    token = await add_user("alice")
    async with connect(server.url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        welcome = json.loads(await ws.recv())
    assert welcome["features"] == ["compact", "compact_snapshot"]
    peer = await Peer.open(server.url, token)
    incident = await peer.declare()
    triage = await peer.request({"type": "subscribe_triage"})
    assert triage["type"] == "triage"
    assert triage["source"]["configured"] is False
    metrics = await peer.request({"type": "get_metrics", "incident_id": incident})
    assert metrics["type"] == "metrics"
    assert metrics["snapshot"] is None
    assert metrics["error"]
    await peer.close()


@pytest.mark.parametrize(
    ("config", "features"),
    [
        (
            ServerConfig(alertmanager=AlertmanagerSettings(url="http://127.0.0.1:9")),
            ["compact", "compact_snapshot", "triage"],
        ),
        (
            ServerConfig(prometheus=PrometheusSettings(url="http://127.0.0.1:9")),
            ["compact", "compact_snapshot", "metrics"],
        ),
        (
            ServerConfig(
                alertmanager=AlertmanagerSettings(url="http://127.0.0.1:9"),
                prometheus=PrometheusSettings(url="http://127.0.0.1:9"),
            ),
            ["compact", "compact_snapshot", "metrics", "triage"],
        ),
    ],
)
async def test_welcome_lists_the_configured_features(
    db_path: Path, config: ServerConfig, features: list[str]
) -> None:
    token = await create_user(db_path, "alice")
    # An injected clock: nothing polls the (absent) Alertmanager or Prometheus.
    async with await start_node(
        db_path, TEST_SETTINGS, config=config, clock=lambda: datetime.now(UTC)
    ) as node:
        headers = {"Authorization": f"Bearer {token}"}
        async with connect(node.url, additional_headers=headers) as ws:
            welcome = json.loads(await ws.recv())
    assert welcome["features"] == features
