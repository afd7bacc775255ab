"""A real Prometheus scrapes warroom's own /metrics: the target is up and the series arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.settings import TEST_SETTINGS
from warroom.node import WarroomNode, start_node
from warroom.server.http_endpoints import HttpSettings

from .processes import Server, binary, start, stop
from .waiting import eventually, free_port

SCRAPE_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: warroom
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


@pytest.fixture
async def node(db_path: Path) -> AsyncIterator[WarroomNode]:
    async with await start_node(db_path, TEST_SETTINGS, http=HttpSettings(port=0)) as running:
        yield running


@pytest.fixture
async def scraping_prometheus(node: WarroomNode, tmp_path: Path) -> AsyncIterator[Server]:
    assert node.http is not None
    workdir = tmp_path / "prometheus"
    workdir.mkdir()
    (workdir / "prometheus.yml").write_text(SCRAPE_CONFIG.format(port=node.http.port))
    port = free_port()
    argv = [
        binary("prometheus"),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    server = await asyncio.to_thread(start, "prometheus", argv, port, workdir)
    yield server
    await asyncio.to_thread(stop, server)


async def test_prometheus_scrapes_the_node(scraping_prometheus: Server) -> None:
    async with httpx.AsyncClient(base_url=scraping_prometheus.url, timeout=5) as http:

        async def warroom_target_up() -> dict[str, object] | None:
            targets = (await http.get("/api/v1/targets")).json()["data"]["activeTargets"]
            up = [t for t in targets if t["labels"]["job"] == "warroom" and t["health"] == "up"]
            return up[0] if up else None

        target = await eventually(warroom_target_up, what="the warroom target up", timeout=30)
        assert target["lastError"] == ""

        async def connections_series() -> list[object] | None:
            query = {"query": 'warroom_connections{job="warroom"}'}
            result = (await http.get("/api/v1/query", params=query)).json()["data"]["result"]
            return list(result) or None

        (sample,) = await eventually(connections_series, what="warroom_connections scraped")
        assert isinstance(sample, dict)
        assert sample["value"][1] == "0"
