"""The node's plain-HTTP endpoints through a real socket: Alertmanager's webhook taken only with
its bearer secret and only as version 4 within bounds (anything else is refused and changes
nothing), /healthz, /readyz and a /metrics exposition with every metric the dashboard reads."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.settings import TEST_SETTINGS
from warroom.config import ServerConfig
from warroom.domain.triage import AlertState
from warroom.monitoring.alertmanager import MAX_WEBHOOK_ALERTS
from warroom.node import WarroomNode, start_node
from warroom.server.http_endpoints import (
    MAX_BODY_BYTES,
    WEBHOOK_PATH,
    HttpEndpoints,
    HttpSettings,
)
from warroom.server.observability import METRIC_NAMES

TOKEN = "webhook-secret-for-the-tests"
DASHBOARD = Path(__file__).parents[2] / "server" / "grafana-dashboard.json"


def alert(fingerprint: str = "0a1b2c3d4e5f6a7b", status: str = "firing", **labels: str) -> Any:
    now = datetime.now(UTC)
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", "service": "checkout", **labels},
        "annotations": {"summary": "Checkout p99 above 2 s"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else now.isoformat(),
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fingerprint,
    }


def notification(*alerts: Any, receiver: str = "warroom") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": receiver,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": list(alerts),
    }


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_a_notification_with_the_secret_opens_one_item_per_alert(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    body = notification(alert("aa01"), alert("aa02", alertname="HighErrorRate"))
    response = await http.post(WEBHOOK_PATH, json=body, headers=AUTH)
    again = await http.post(WEBHOOK_PATH, json=body, headers=AUTH)
    assert (response.status_code, again.status_code) == (200, 200)
    items = node.integrations.triage.items
    assert sorted(a for i in items.values() for a in i.alerts) == ["aa01", "aa02"]
    assert len(items) == 2


async def test_a_flood_of_distinct_alerts_opens_no_more_items_than_the_limit(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = ServerConfig.model_validate(
        {"alertmanager": {"webhook_token": TOKEN, "max_open_items": 3}}
    )
    flood = notification(*(alert(f"f{n:03}", instance=str(n)) for n in range(50)))
    async with (
        await start_node(db_path, TEST_SETTINGS, config=config, http=HttpSettings(port=0)) as node,
        httpx.AsyncClient(base_url=node.http.url if node.http else "", timeout=10) as http,
    ):
        response = await http.post(WEBHOOK_PATH, json=flood, headers=AUTH)
        assert response.status_code == 200
        triage = node.integrations.triage
        assert len(triage.items) == 3
        assert triage.refused_alerts == 47
        refusals = [r for r in caplog.records if "max_open_items" in r.getMessage()]
        assert len(refusals) == 1, "one log line per notification, not one per alert"
        assert "47 new alerts made no item" in refusals[0].getMessage()

        # An alert already on an item still updates it; deciding an item makes room again.
        resolved = notification(alert("f000", status="resolved", instance="0"))
        assert (await http.post(WEBHOOK_PATH, json=resolved, headers=AUTH)).status_code == 200
        still_firing = notification(*flood["alerts"][1:])
        assert (await http.post(WEBHOOK_PATH, json=still_firing, headers=AUTH)).status_code == 200
        assert len(triage.items) == 4
        assert not triage.items[1].firing


async def test_a_resolved_notification_resolves_at_its_end(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    await http.post(WEBHOOK_PATH, json=notification(alert("bb01")), headers=AUTH)
    resolved = alert("bb01", status="resolved")
    response = await http.post(WEBHOOK_PATH, json=notification(resolved), headers=AUTH)
    assert response.status_code == 200
    (item,) = node.integrations.triage.items.values()
    assert item.alerts["bb01"].state is AlertState.RESOLVED
    assert item.alerts["bb01"].ends_at == datetime.fromisoformat(resolved["endsAt"])


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
async def test_a_notification_without_the_secret_is_refused(
    node: WarroomNode, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.post(WEBHOOK_PATH, json=notification(alert()), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="warroom"'
    assert node.integrations.triage.items == {}


BAD_BODIES = {
    "not json": b"{not json",
    "empty": b"",
    "a list": b"[]",
    "version 3": json.dumps({**notification(alert()), "version": "3"}).encode(),
    "naive time": json.dumps(notification({**alert(), "startsAt": "2026-01-01T00:00:00"})).encode(),
    "bad fingerprint": json.dumps(notification(alert("not hex!"))).encode(),
    "label not text": json.dumps(notification({**alert(), "labels": {"a": 1}})).encode(),
    "too many alerts": json.dumps(
        notification(*[alert(f"{n:x}") for n in range(MAX_WEBHOOK_ALERTS + 1)])
    ).encode(),
    "huge label": json.dumps(notification(alert(service="x" * 10_000))).encode(),
    "control chars in a label name": json.dumps(
        notification({**alert(), "labels": {"\x1b[31mred" * 100: "x"}})
    ).encode(),
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_malformed_notification_is_refused_and_changes_nothing(
    node: WarroomNode, http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post(
        WEBHOOK_PATH, content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.text.startswith("not an Alertmanager webhook notification (version 4)")
    assert "\x1b" not in response.text
    assert node.integrations.triage.items == {}


async def test_an_oversized_body_is_refused_unread(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    response = await http.post(WEBHOOK_PATH, content=b" " * (MAX_BODY_BYTES + 1), headers=AUTH)
    assert response.status_code == 413
    assert node.integrations.triage.items == {}


async def test_an_oversized_chunked_body_is_refused_without_a_length(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = await http.post(WEBHOOK_PATH, content=chunks(), headers=AUTH)
    assert response.status_code == 413
    assert node.integrations.triage.items == {}


async def _always_ready() -> str | None:
    return None


STALLED_REQUEST = (
    b"POST /alertmanager/webhook HTTP/1.1\r\nHost: warroom\r\nContent-Length: 1000\r\n\r\n{"
)


async def test_a_request_that_stalls_is_dropped_after_its_time() -> None:
    endpoints = HttpEndpoints(HttpSettings(port=0, request_seconds=0.2), ready=_always_ready)
    await endpoints.listen()
    try:
        async with asyncio.timeout(30):
            reader, writer = await asyncio.open_connection("127.0.0.1", endpoints.port)
            writer.write(STALLED_REQUEST)
            await writer.drain()
            answer = await reader.read()  # returns only once the server closed the connection
            writer.close()
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert b"malformed or incomplete request" in answer
    finally:
        await endpoints.close()


async def test_close_returns_with_a_stalled_connection_open() -> None:
    """The request time is far longer than the test: close() must end the connection itself."""
    endpoints = HttpEndpoints(HttpSettings(port=0, request_seconds=3600), ready=_always_ready)
    await endpoints.listen()
    reader, writer = await asyncio.open_connection("127.0.0.1", endpoints.port)
    writer.write(STALLED_REQUEST)
    await writer.drain()
    async with httpx.AsyncClient(base_url=endpoints.url) as client:
        assert (await client.get("/healthz")).status_code == 200  # served beside the stalled one
    async with asyncio.timeout(30):  # a hang bound, not a measurement
        await endpoints.close()
        assert await reader.read() == b"", "the stalled connection was closed, unanswered"
    writer.close()


async def test_another_receivers_notification_is_refused(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    body = notification(alert(), receiver="storage-team")
    response = await http.post(WEBHOOK_PATH, json=body, headers=AUTH)
    assert response.status_code == 422
    assert "storage-team" in response.text
    assert node.integrations.triage.items == {}


async def test_alert_text_stays_data(node: WarroomNode, http: httpx.AsyncClient) -> None:
    sneaky = {**alert("cc01"), "annotations": {"summary": "\x1b[2J[b]boom[/b]\nsecond line"}}
    response = await http.post(WEBHOOK_PATH, json=notification(sneaky), headers=AUTH)
    assert response.status_code == 200
    (item,) = node.integrations.triage.items.values()
    assert item.annotations["summary"] == "\x1b[2J[b]boom[/b]\nsecond line"
    assert item.title == "[2J[b]boom[/b] second line"


async def test_other_methods_and_paths(http: httpx.AsyncClient) -> None:
    assert (await http.get(WEBHOOK_PATH)).status_code == 405
    assert (await http.post("/metrics")).status_code == 405
    assert (await http.get("/nothing-here")).status_code == 404


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).text == "ok\n"
    ready = await http.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready\n")


async def test_readiness_fails_when_the_database_is_gone(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    await node.store.close()
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.text.startswith("not ready: ")


async def test_metrics_expose_every_named_metric(
    node: WarroomNode, http: httpx.AsyncClient
) -> None:
    await http.post(WEBHOOK_PATH, json=notification(alert("dd01")), headers=AUTH)
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    exposed = exposed_names(response.text)
    assert set(METRIC_NAMES) <= exposed
    assert 'warroom_triage_items{state="firing",status="open"} 1.0' in response.text
    assert "warroom_alert_webhook_deliveries_total 1.0" in response.text


def exposed_names(text: str) -> set[str]:
    """Every series name the exposition offers, with the suffixes PromQL queries use."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names


async def test_the_dashboard_queries_only_metrics_the_server_exposes(
    http: httpx.AsyncClient,
) -> None:
    exposed = exposed_names((await http.get("/metrics")).text)
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert queries
    used = {name for q in queries for name in re.findall(r"\bwarroom_[a-z_]+", q)}
    assert used
    assert used <= exposed, used - exposed
