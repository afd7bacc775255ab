"""A warroom server in its own process, so tests can SIGKILL it like a host that lost power."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`python -m warroom serve` on a fixed port and database."""

    def __init__(self, db: Path, port: int) -> None:
        self.db = db
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warroom",
                "serve",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        """Poll /healthz until the server answers (bounded: 20 s), failing if the process died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        async with httpx.AsyncClient() as http:
            while loop.time() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    assert self.proc.stderr is not None  # started with stderr=PIPE
                    raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()}")
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)  # poll interval of a bounded readiness loop
        raise TimeoutError("server did not become healthy within 20 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout=20)
