"""The `warroom` command: the TUI by default, the server, and one subcommand per action."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from warroom.cli.parser import build_parser
from warroom.client.errors import ClientError
from warroom.server.observability import configure_logging
from warroom.settings import ConfigError
from warroom.store.base import StoreError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    configure_logging(
        getattr(args, "log_format", "text"),
        logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
    )
    try:
        result: int = asyncio.run(args.run(args))
    except ConfigError as exc:
        # One line per problem, each one a complete sentence a reader can act on.
        for problem in exc.problems:
            print(f"warroom: {problem}", file=sys.stderr)
        return 1
    except (ClientError, StoreError) as exc:
        print(f"warroom: {_inert(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _inert(message: str) -> str:
    # Errors quote files, databases and servers; whatever they hold must not drive the terminal.
    return "".join(ch if ch.isprintable() else "?" for ch in message)
