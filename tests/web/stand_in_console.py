"""A stand-in for the console process `warroom web` starts per browser: it says it started
(textual-serve's handshake), then waits for textual-serve's quit, so web tests count sessions
without running a whole console each."""

from __future__ import annotations

import shlex
import sys

from warroom.tui.web_server import console_shell_command

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

STUBBORN_PROGRAM = r"""
import os, sys, time
out, stdin = sys.stdout.buffer, sys.stdin.buffer
pid = str(os.getpid()).encode()
out.write(b"__GANGLION__\n")
out.write(b"D" + len(pid).to_bytes(4, "big") + pid)
out.flush()
while (kind := stdin.read(1)):
    size = int.from_bytes(stdin.read(4), "big")
    if b'"quit"' in stdin.read(size):
        break
os.close(1)  # textual-serve sees its output end here, but the process does not exit
time.sleep(600)
"""

STUBBORN_COMMAND = console_shell_command([sys.executable, "-c", STUBBORN_PROGRAM])
"""A console that says its process id, then hangs on after its session ends instead of exiting;
started as `warroom web` starts the console."""
