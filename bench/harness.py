"""Shared benchmark plumbing: server processes, /proc readings, worker pool, statistics, results."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import re
import select
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LOOPBACK = "127.0.0.1"


# --- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How long and how wide each measurement runs; `--quick` picks the small set."""

    quick: bool
    clients: tuple[int, ...]
    paced_rate: float = 20.0
    """Writes per second, all writers together."""
    paced_seconds: float = 10.0
    burst_seconds: float = 5.0
    window: int = 16
    """Outstanding (unacknowledged) writes each burst writer keeps in flight."""
    max_writers: int = 4
    workers: int = 4
    """Load-generator processes; the clients of one run are spread over them."""
    long_incident: int = 100_000
    """Entries of the incident that sits beside one extra warroom fan-out run."""
    idle_clients: int = 200
    catchup_repeats: int = 21
    """Connects per catch-up case: each takes milliseconds, and the median and least of three
    moved by 30-50 % between runs on the shared machine (sync17)."""
    tui_sizes: tuple[int, ...] = (10_000, 100_000)
    tui_burst: int = 1_000
    drain_timeout: float = 30.0
    settle_seconds: float = 0.5
    """Pause after clients join, before measuring (join notifications, memory)."""
    deflate: bool = True
    """Clients offer permessage-deflate (the `websockets` default, so warroom's client does)."""

    @classmethod
    def full(cls) -> Settings:
        return cls(quick=False, clients=(2, 10, 50, 200))

    @classmethod
    def quick_mode(cls) -> Settings:
        return cls(
            quick=True,
            clients=(10, 50),
            paced_seconds=1.5,
            burst_seconds=1.0,
            settle_seconds=0.3,
            workers=2,
            idle_clients=100,
            long_incident=20_000,
            catchup_repeats=15,
            tui_sizes=(10_000,),
            drain_timeout=10.0,
        )


# --- results ------------------------------------------------------------------------------------


@dataclass
class Results:
    """Every figure of a run, by dotted key, plus notes saying what was skipped and why."""

    figures: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def put(self, key: str, value: float | None) -> None:
        self.figures[key] = None if value is None else round(float(value), 4)

    def get(self, key: str) -> float | None:
        return self.figures.get(key)

    def note(self, text: str) -> None:
        print(f"  note: {text}", flush=True)
        self.notes.append(text)

    def as_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "figures": self.figures, "notes": self.notes}


def source_version() -> str:
    """The commit measured, with `+changes` when src/ differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "src"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if changes else "")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


# --- statistics ---------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float | None:
    return percentile(values, 50)


# --- /proc readings -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads included."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces; the fields we want follow its closing parenthesis.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def busy_seconds() -> float:
    """CPU time spent in processes and kernel threads, all cores, since boot. Interrupt time is
    left out: loopback traffic (ours included) is processed there, charged to no process."""
    with open("/proc/stat") as stat:
        user, nice, system = (int(f) for f in stat.readline().split()[1:4])
    return (user + nice + system) / CLOCK_TICKS


def steal_seconds() -> float:
    """Time this VM's CPUs were ready to run but the hypervisor ran something else."""
    with open("/proc/stat") as stat:
        return int(stat.readline().split()[8]) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """This process (the orchestrator)."""
    return cpu_seconds(os.getpid())


def disk_bytes_written(pid: int) -> int:
    """Bytes a process caused to be written to storage (`write_bytes` of /proc/PID/io): the
    commits, their snapshots and the checkpoints, not socket traffic. Counted, not timed, so it
    holds on a busy machine."""
    with open(f"/proc/{pid}/io") as io:
        for line in io:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise RuntimeError(f"no write_bytes for {pid}")


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# --- server processes ---------------------------------------------------------------------------


class ServerProcess:
    """A server under test in its own process (own GIL), started by one of the bench launchers.

    The launcher prints `READY <port>` once it listens; stderr goes to a log file."""

    def __init__(
        self,
        name: str,
        proc: subprocess.Popen[str],
        port: int,
        log: Path,
        metrics_port: int | None = None,
    ) -> None:
        self.name = name
        self.proc = proc
        self.port = port
        self.log = log
        self.metrics_port = metrics_port
        """Where the server answers `GET /metrics` (warroom only)."""

    @classmethod
    def launch(cls, name: str, module: str, args: list[str], workdir: Path) -> ServerProcess:
        log = workdir / f"{name}.log"
        with log.open("w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, "--port", "0", *args],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                line = proc.stdout.readline()
                if line.startswith("READY "):
                    ports = [int(p) for p in line.split()[1:]]
                    return cls(name, proc, ports[0], log, ports[1] if len(ports) > 1 else None)
                if not line:
                    break
            elif proc.poll() is not None:
                break
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{name} server did not start; see {log}:\n{log.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str = "") -> str:
        return f"ws://{LOOPBACK}:{self.port}{path}"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def disk_bytes_written(self) -> int:
        return disk_bytes_written(self.pid)

    def commits(self) -> float | None:
        """How many commits of events the server made so far (its `/metrics`); None for a
        server without them."""
        if self.metrics_port is None:
            return None
        url = f"http://{LOOPBACK}:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            text = reply.read().decode()
        found = re.search(r"^warroom_commit_seconds_count (\S+)$", text, re.MULTILINE)
        return float(found[1]) if found else None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ten seconds."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# --- load-generator worker processes ------------------------------------------------------------


class WorkerPool:
    """A few load-generator processes, each driving a share of the clients of a run.

    Commands are `(name, payload)` tuples over a pipe; each worker answers every command once."""

    def __init__(self, count: int) -> None:
        from bench.worker import worker_main

        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._procs: list[multiprocessing.process.BaseProcess] = []
        for index in range(count):
            ours, theirs = context.Pipe()
            proc = context.Process(target=worker_main, args=(theirs,), name=f"bench-worker-{index}")
            proc.start()
            theirs.close()
            self._pipes.append(ours)
            self._procs.append(proc)

    @property
    def size(self) -> int:
        return len(self._procs)

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def ask(self, payloads: list[tuple[str, Any]], timeout: float) -> list[Any]:
        """Send one command to each of the first len(payloads) workers; return their answers."""
        for pipe, payload in zip(self._pipes, payloads, strict=False):
            pipe.send(payload)
        answers: list[Any] = []
        deadline = time.monotonic() + timeout
        for pipe in self._pipes[: len(payloads)]:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not pipe.poll(remaining):
                raise TimeoutError(f"a bench worker did not answer within {timeout:.0f} s")
            answers.append(pipe.recv())
        # Every worker has answered (so no stale answer waits in a pipe); now report failures.
        for answer in answers:
            if isinstance(answer, dict) and "error" in answer:
                raise RuntimeError(f"bench worker failed: {answer['error']}")
        return answers

    def close(self) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # a worker that died has closed its end
                pipe.send(("exit", None))
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()


def share(items: list[int], parts: int) -> list[list[int]]:
    """Split items round-robin into at most `parts` non-empty lists."""
    parts = max(1, min(parts, len(items)))
    return [items[i::parts] for i in range(parts)]
