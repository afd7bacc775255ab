"""A stand-in for the console process `warroom web` starts per browser: it says it started
(textual-serve's handshake), then waits for textual-serve's quit, so web tests count sessions
without running a whole console each."""

from __future__ import annotations

import shlex
import sys

PROGRAM = r"""
import json, sys
out, stdin = sys.stdout.buffer, sys.stdin.buffer
out.write(b"__GANGLION__\n")
out.write(b"D" + (5).to_bytes(4, "big") + b"ready")
out.flush()
while (kind := stdin.read(1)):
    size = int.from_bytes(stdin.read(4), "big")
    if json.loads(stdin.read(size)).get("type") == "quit":
        break
"""

COMMAND = shlex.join([sys.executable, "-c", PROGRAM])
"""The command line `ConsoleWebServer` runs for each session."""
