"""The `warroom` command: the TUI by default, the server, and one subcommand per action."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from warroom.cli.parser import build_parser
from warroom.client.errors import ClientError
from warroom.client.session import CommandRefused
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
    except CommandRefused as exc:
        # The server's sentence first, for the person at the terminal; its code after it, for
        # a script (and a search of docs/protocol.md).
        print(f"warroom: {_inert(exc.message)} ({exc.code.value})", file=sys.stderr)
        return 1
    except (ClientError, StoreError) as exc:
        print(f"warroom: {_inert(str(exc))}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        # A command built from the arguments refused them (an empty title, a text over the
        # limit, bytes that are not UTF-8): say which argument and why, never a traceback.
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in error["loc"])
            print(f"warroom: {_inert(where)}: {_inert(error['msg'])}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _inert(message: str) -> str:
    # Errors quote files, databases and servers; whatever they hold must not drive the terminal.
    return "".join(ch if ch.isprintable() else "?" for ch in message)
