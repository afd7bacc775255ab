"""Starts the TUI from the command line (placeholder until the console lands)."""

from __future__ import annotations

import argparse
import sys


async def launch_tui(args: argparse.Namespace, *, demo: bool) -> int:
    print("warroom: the TUI is not built yet; see `warroom --help`", file=sys.stderr)
    return 2
