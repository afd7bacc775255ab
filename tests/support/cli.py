"""Running the `warroom` command line as a real child process and capturing what it printed."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from warroom.server.app import WarroomServer


@dataclass
class Result:
    code: int
    out: str
    err: str


async def warroom(*args: str, server: WarroomServer | None = None, token: str = "") -> Result:
    """Run `python -m warroom *args` (against `server` with `token` if given) to completion."""
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
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())
