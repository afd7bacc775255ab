"""Node processes forked from one that has already imported warroom, for the cluster tests.

A `python -m warroom serve` spends nearly all of its ~2.5 s start on this shared 2-core machine
importing (1.7 s of imports, 0.1 s for `start_node` on PostgreSQL); the issue's twenty SIGKILL
rounds need twenty node starts. So one helper process (`python -m tests.support.node_forker`)
imports the server once and forks a child per node, which runs `warroom.cli.main(argv)` with
the caller's environment and working directory, stdin and stdout on /dev/null and stderr on the
node's log. Each node is still its own process: SIGKILL ends it and the kernel closes its
sockets, as for a lost host. The helper ignores SIGCHLD, so the kernel reaps the nodes; the
caller follows one through a pidfd (it is not the node's parent, so it sees that the node ended,
not its exit status).
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import IO

ROOT = Path(__file__).parents[2]
PRELOADED = (
    "asyncpg",
    "warroom.cli",
    "warroom.cli.serving",
    "warroom.node",
    "warroom.store.postgres",
)
"""What `warroom serve --db postgresql://…` imports, imported once in the helper."""


class ForkedNode:
    """A node forked by the helper: the part of `subprocess.Popen` the tests use."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)
        self.returncode: int | None = None
        """-1 once it ended (its real status went to the helper, its parent)."""

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout: float) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"node {self.pid}", timeout)
            self._ended()
        assert self.returncode is not None
        return self.returncode

    def _ended(self) -> None:
        self.returncode = -1
        os.close(self._pidfd)

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class NodeForker:
    """The caller's side: one helper process for the whole test session, started on first use."""

    _helper: subprocess.Popen[str] | None = None

    @classmethod
    def spawn(cls, argv: list[str], log: Path) -> ForkedNode:
        """Start `warroom <argv>` as a forked node, its stderr appended to `log`."""
        helper = cls._running()
        assert helper.stdin is not None
        assert helper.stdout is not None
        request = {"argv": argv, "log": str(log), "env": dict(os.environ), "cwd": os.getcwd()}
        helper.stdin.write(json.dumps(request) + "\n")
        helper.stdin.flush()
        answer = helper.stdout.readline()
        if not answer:
            raise RuntimeError(f"the node forker exited {helper.wait()}")
        return ForkedNode(int(answer))

    @classmethod
    def _running(cls) -> subprocess.Popen[str]:
        if cls._helper is None or cls._helper.poll() is not None:
            cls._helper = subprocess.Popen(
                [sys.executable, "-m", "tests.support.node_forker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            atexit.register(cls._helper.terminate)
        return cls._helper


def _run_node(request: dict[str, object]) -> int:
    """In the forked child: become the node the request describes."""
    from warroom.cli import main

    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 2)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(str(request["cwd"]))
    argv = request["argv"]
    assert isinstance(argv, list)
    return main([str(a) for a in argv])


def _serve(requests: IO[str], answers: IO[str]) -> None:
    """The helper: import the server once, then fork a node per request line."""
    for module in PRELOADED:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the nodes
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _run_node(request)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        answers.write(f"{pid}\n")
        answers.flush()


if __name__ == "__main__":
    _serve(sys.stdin, sys.stdout)
