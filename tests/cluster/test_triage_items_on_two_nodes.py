"""Alerts reaching two nodes at once (Alertmanager's webhook is taken by whichever node it
reaches): each new alert gets a triage item of its own in the database, whichever node opened
it, and the same alert reaching both nodes is one item, not two."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from tests.support.settings import TEST_SETTINGS
from warroom.monitoring.alertmanager import WebhookMessage
from warroom.node import WarroomNode, start_node

ROUNDS = 5


def firing(fingerprint: str, name: str) -> WebhookMessage:
    """Alertmanager's webhook notification of one alert that started firing."""
    started = datetime.now(UTC) - timedelta(minutes=1)
    # As JSON, the way it arrives: the model reads times strictly from RFC 3339 text.
    return WebhookMessage.model_validate_json(
        json.dumps(
            {
                "version": "4",
                "groupKey": f"{{}}:{{alertname={name!r}}}",
                "status": "firing",
                "receiver": "warroom",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": name, "severity": "critical"},
                        "annotations": {"summary": f"{name} on {fingerprint}"},
                        "startsAt": started.isoformat(),
                        "endsAt": "0001-01-01T00:00:00Z",
                        "fingerprint": fingerprint,
                    }
                ],
            }
        )
    )


def fingerprints(node: WarroomNode) -> dict[int, set[str]]:
    return {i: set(item.alerts) for i, item in node.integrations.triage.items.items()}


async def test_different_alerts_on_two_nodes_at_once_get_distinct_items_in_the_database(
    pg_url: str,
) -> None:
    a = await start_node(pg_url, TEST_SETTINGS)
    b = await start_node(pg_url, TEST_SETTINGS)
    try:
        for n in range(ROUNDS):
            await asyncio.gather(
                a.integrations.triage.deliver(firing(f"a{n:03x}", "DiskFull")),
                b.integrations.triage.deliver(firing(f"b{n:03x}", "CpuHigh")),
            )
        stored = {item.id: set(item.alerts) for item in await a.store.load_triage()}
        every_alert = {f"{side}{n:03x}" for side in "ab" for n in range(ROUNDS)}
        assert sorted(fp for fps in stored.values() for fp in fps) == sorted(every_alert)
        assert all(len(fps) == 1 for fps in stored.values())
        # What each node holds is what the database holds under the same number.
        for node in (a, b):
            for item_id, fps in fingerprints(node).items():
                assert stored[item_id] == fps
    finally:
        await a.close()
        await b.close()


async def test_the_same_alert_reaching_both_nodes_is_one_item(pg_url: str) -> None:
    a = await start_node(pg_url, TEST_SETTINGS)
    b = await start_node(pg_url, TEST_SETTINGS)
    try:
        await a.integrations.triage.deliver(firing("c0ffee", "DiskFull"))
        await asyncio.gather(
            a.integrations.triage.deliver(firing("beef01", "CpuHigh")),
            b.integrations.triage.deliver(firing("c0ffee", "DiskFull")),
        )
        stored = {item.id: set(item.alerts) for item in await a.store.load_triage()}
        assert sorted(stored.values(), key=sorted) == [{"beef01"}, {"c0ffee"}]
        assert fingerprints(b) == {i: fps for i, fps in stored.items() if fps == {"c0ffee"}}
    finally:
        await a.close()
        await b.close()
