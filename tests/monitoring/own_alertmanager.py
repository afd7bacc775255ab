"""An Alertmanager a test owns: the route server/README.md documents (no `group_by`), optionally
pushing to warroom's webhook, fed alerts through its API v2 the way Prometheus feeds it,
silenced through the same API, and restartable."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from .processes import Server, binary, start, stop

CONFIG = """\
route:
  receiver: warroom
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: warroom
"""

WEBHOOK = """\
    webhook_configs:
      - url: "{url}"
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            credentials: "{token}"
"""


class OwnAlertmanager:
    """One Alertmanager process on a fixed port, so a restart keeps its address."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: Server | None = None

    def configure(self, webhook_url: str | None = None, token: str = "") -> None:
        text = CONFIG + (WEBHOOK.format(url=webhook_url, token=token) if webhook_url else "")
        (self.workdir / "alertmanager.yml").write_text(text)

    async def start(self) -> None:
        argv = [
            binary("prometheus-alertmanager", "alertmanager"),
            f"--config.file={self.workdir / 'alertmanager.yml'}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        self._server = await asyncio.to_thread(start, "alertmanager", argv, self.port, self.workdir)

    async def stop(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(stop, self._server)
            self._server = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def send(
        self,
        labels: Mapping[str, str],
        starts_at: datetime,
        ends_at: datetime,
        annotations: Mapping[str, str] | None = None,
    ) -> None:
        """Send one alert as Prometheus does (`POST /api/v2/alerts`); an `ends_at` in the past
        resolves it."""
        alert = {
            "labels": dict(labels),
            "annotations": dict(annotations or {}),
            "startsAt": starts_at.isoformat(),
            "endsAt": ends_at.isoformat(),
            "generatorURL": "http://prometheus.example/graph",
        }
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.url}/api/v2/alerts", json=[alert], timeout=5)
        response.raise_for_status()

    async def silence(self, label: str, value: str) -> None:
        """Silence the alerts whose `label` equals `value` for an hour (`POST
        /api/v2/silences`, as `amtool silence add` does)."""
        now = datetime.now(UTC)
        silence = {
            "matchers": [{"name": label, "value": value, "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "warroom tests",
            "comment": "silenced by a test",
        }
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.url}/api/v2/silences", json=silence, timeout=5)
        response.raise_for_status()
