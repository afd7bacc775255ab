"""Running the `warroom` command line as a real child process and capturing what it printed."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from warroom.node import WarroomNode

AddUser = Callable[[str], Awaitable[str]]


@dataclass
class Result:
    code: int
    out: str
    err: str


async def warroom(
    *args: str,
    server: WarroomNode | None = None,
    token: str = "",
    env: dict[str, str] | None = None,
) -> Result:
    """Run `python -m warroom *args` (against `server` with `token` if given, with `env` added to
    this process's environment) to completion."""
    argv = list(args)
    if server is not None:
        argv += ["--server", server.url, "--token", token]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "warroom",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env} if env is not None else None,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())
