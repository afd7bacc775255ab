"""A raw websocket peer for protocol tests: sends frames as JSON, awaits the reply it expects."""

from __future__ import annotations

import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class Peer:
    """One raw connection speaking the JSON protocol, with no client library in between."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, token: str) -> Peer:
        ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"})
        peer = cls(ws)
        welcome = await peer.recv()
        assert welcome["type"] == "welcome"
        return peer

    async def close(self) -> None:
        await self.ws.close()

    async def recv(self) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await self.ws.recv())
        self.seen.append(frame)
        return frame

    async def send(self, frame: dict[str, Any]) -> str:
        frame.setdefault("id", uuid.uuid4().hex)
        await self.ws.send(json.dumps(frame))
        return str(frame["id"])

    async def reply_to(self, frame_id: str) -> dict[str, Any]:
        """Read frames until the one answering `frame_id` (other frames are kept in `seen`)."""
        while True:
            frame = await self.recv()
            if frame.get("id") == frame_id:
                return frame

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        return await self.reply_to(await self.send(frame))

    async def declare(self, title: str = "API outage", severity: int = 3) -> int:
        reply = await self.request(
            {"type": "declare_incident", "title": title, "severity": severity}
        )
        assert reply["type"] == "ack", reply
        return int(reply["incident_id"])
