"""The `serve` subcommand, in a module of its own: starting a server imports what serving needs,
not the client, the exporters and the console's settings the other subcommands use."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from warroom.config import ServerConfig, load_config
from warroom.node import ListenError, WarroomNode, serve_until_signalled
from warroom.paths import default_db
from warroom.server.app import ServerSettings
from warroom.server.http_endpoints import HttpSettings
from warroom.server.observability import JsonLines
from warroom.store.open import describe

log = logging.getLogger(__name__)


async def serve(args: argparse.Namespace) -> int:
    async def announce(server: WarroomNode) -> None:
        http = f", http on {server.http.url}" if server.http is not None else ""
        line = f"warroom server on {server.url}{http} (database {describe(server.store)})"
        if args.log_format == "json":
            record = logging.makeLogRecord({"name": "warroom.serve", "levelname": "INFO"})
            record.msg = line
            line = JsonLines().format(record)
        print(line, file=sys.stderr)

    config = load_config(args.config)
    settings = ServerSettings(
        host=args.host,
        port=args.port,
        limits=config.limits,
        trusted_proxies=tuple(config.trusted_proxies),
        unix_socket=args.unix,
    )
    http = HttpSettings(host=args.host, port=args.http_port) if args.http_port is not None else None
    try:
        await serve_until_signalled(
            database_for(args, config), settings, config, ready=announce, http=http
        )
    except ListenError as exc:
        # One line and a failure status, so systemd's Restart=on-failure takes over.
        if args.log_format == "json":
            log.error("%s", exc)
        else:
            print(f"warroom: {exc}", file=sys.stderr)
        return 1
    return 0


def database_for(args: argparse.Namespace, config: ServerConfig) -> Path | str:
    """`--db`, else the config file's `db`, else the SQLite file in the user data dir."""
    return args.db or config.db or default_db()
