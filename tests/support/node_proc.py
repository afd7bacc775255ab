"""`warroom serve --db postgresql://…` in a process of its own, to SIGKILL like a lost host.

The SQLite rounds' `ServerProc` (tests/faults/support.py) takes a file; a cluster node takes a
database URL and, for the integration tests, a config file. Nodes are forked from a helper that
has imported warroom already (tests/support/node_forker.py): a fresh interpreter would spend
most of a node's start importing.
"""

from __future__ import annotations

from pathlib import Path

from tests.core.serverproc import free_port
from tests.faults.support import wait_healthy
from tests.support import processes
from tests.support.node_forker import ForkedNode, NodeForker


class NodeProc:
    """One node of a cluster; its stderr kept in a file (an unread pipe could stall it)."""

    def __init__(
        self,
        db_url: str,
        port: int,
        log: Path,
        config: Path | None = None,
        *,
        host: str = "127.0.0.1",
        http_port: int | None = None,
    ) -> None:
        """Args:
        host: a loopback address of its own (127.0.0.2…) lets two nodes use the same ports, as
            on two hosts.
        http_port: also serve /readyz and /metrics over plain HTTP there (`--http-port`).
        """
        self.db_url = db_url
        self.port = port
        self.log = log
        self.config = config
        self.host = host
        self.http_port = http_port
        self.proc: ForkedNode | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        argv = ["serve", "--host", self.host, "--port", str(self.port), "--db", self.db_url]
        if self.http_port is not None:
            argv += ["--http-port", str(self.http_port)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        self.proc = NodeForker.spawn(argv, self.log)
        await wait_healthy(self.port, self.proc, self.log, self.host)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs; the kernel closes its sockets, so PostgreSQL ends its
        sessions (and releases their advisory locks) at once."""
        assert self.proc is not None
        processes.kill_now(self.proc)

    def stop(self) -> None:
        processes.stop(self.proc)


def nodes_on(db_url: str, log_dir: Path, count: int) -> list[NodeProc]:
    """`count` nodes of one cluster on the database, not started yet: on 127.0.0.1, each on a
    port of its own, node n's stderr in `log_dir/node{n}.log`."""
    return [NodeProc(db_url, free_port(), log_dir / f"node{n}.log") for n in range(count)]
