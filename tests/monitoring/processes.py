"""Monitoring processes (Prometheus, Alertmanager) started for tests, waited for and stopped."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

INSTALL_HINT = "run `sudo scripts/install-monitoring` to install Prometheus and Alertmanager"

STARTUP_TIMEOUT = 30.0


@dataclass
class Server:
    """A monitoring process started for the test session."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"none of {', '.join(names)} is on PATH; {INSTALL_HINT}", pytrace=False)


def log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def start(name: str, argv: list[str], port: int, workdir: Path) -> Server:
    """Start `argv` and wait for its /-/ready endpoint, failing with its log if it never is."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log_tail(log)}")
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop(server)
            pytest.fail(f"{name} not ready after {STARTUP_TIMEOUT:g}s:\n{log_tail(log)}")
        time.sleep(0.05)  # the poll interval of this bounded wait, not a wait for an event


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
