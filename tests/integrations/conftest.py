"""Fixtures of the webhook tests: a node taking Alertmanager's webhook, and an HTTP client to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integrations.test_alert_webhook import TOKEN
from tests.support.settings import TEST_SETTINGS
from warroom.config import ServerConfig
from warroom.node import WarroomNode, start_node
from warroom.server.http_endpoints import HttpSettings


@pytest.fixture
async def node(db_path: Path) -> AsyncIterator[WarroomNode]:
    config = ServerConfig.model_validate({"alertmanager": {"webhook_token": TOKEN}})
    async with await start_node(
        db_path, TEST_SETTINGS, config=config, http=HttpSettings(port=0)
    ) as running:
        yield running


@pytest.fixture
async def http(node: WarroomNode) -> AsyncIterator[httpx.AsyncClient]:
    assert node.http is not None
    async with httpx.AsyncClient(base_url=node.http.url, timeout=10) as client:
        yield client
