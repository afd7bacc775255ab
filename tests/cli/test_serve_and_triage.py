"""`warroom serve` as an operator runs it (a busy port is one line and a failure status; JSON log
lines when asked) and `warroom triage` as the on-call engineer reads it (alert states, a failure
status while Alertmanager is unreachable, resolved items aging out)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import warroom
from tests.support.settings import TEST_SETTINGS
from warroom.config import ServerConfig
from warroom.demo_data import waiting_alert
from warroom.node import start_node
from warroom.users import create_user

AddUser = Callable[[str], Awaitable[str]]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_serve_on_a_busy_port_says_so_in_one_line_and_fails(
    busy_port: int, db_path: Path
) -> None:
    async with asyncio.timeout(60):
        result = await warroom("serve", "--port", str(busy_port), "--db", str(db_path))
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"warroom: cannot listen on 127.0.0.1:{busy_port}")
    assert "Traceback" not in result.err


async def test_serve_on_a_busy_http_port_fails_the_same_way(busy_port: int, db_path: Path) -> None:
    async with asyncio.timeout(60):
        result = await warroom(
            "serve", "--port", "0", "--http-port", str(busy_port), "--db", str(db_path)
        )
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert f"{busy_port} (http)" in result.err


async def test_json_logs_are_one_object_a_line_without_tracebacks(
    tmp_path: Path, db_path: Path
) -> None:
    config = tmp_path / "warroom.toml"
    # Nothing listens there: every poll fails, an expected failure logged as one line each.
    config.write_text(
        f'[alertmanager]\nurl = "http://127.0.0.1:{free_port()}"\npoll_seconds = 0.1\n'
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "warroom",
        "serve",
        "--port",
        "0",
        "--http-port",
        "0",
        "--db",
        str(db_path),
        "--config",
        str(config),
        "--log-format",
        "json",
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not (
                any("alert source unavailable" in line for line in lines)
                and any("warroom server on" in line for line in lines)
            ):
                line = (await proc.stderr.readline()).decode()
                assert line, f"server exited early: {lines}"
                lines.append(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = await proc.communicate()
    lines += [line + "\n" for line in (rest or b"").decode().splitlines()]
    assert proc.returncode == 0
    records = [json.loads(line) for line in lines]
    assert any(r["message"].startswith("warroom server on ws://127.0.0.1:") for r in records)
    failure = next(r for r in records if "alert source unavailable" in r["message"])
    assert (failure["level"], failure["logger"]) == ("warning", "warroom.integrations.triage")
    assert not any("error" in r for r in records)
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)


async def test_triage_lists_alert_states_and_fails_while_alertmanager_is_unreachable(
    db_path: Path,
) -> None:
    token = await create_user(db_path, "oncall")
    free = f"http://127.0.0.1:{free_port()}"
    config = ServerConfig.model_validate({"alertmanager": {"url": free, "poll_seconds": 0.1}})
    async with await start_node(db_path, TEST_SETTINGS, config=config) as node:
        desk = node.integrations.triage
        await desk.reconcile([waiting_alert(datetime.now(UTC))])
        failed = asyncio.Event()
        desk.on_change = lambda: failed.set() if not desk.source.ok else None
        desk.on_change()
        async with asyncio.timeout(30):
            await failed.wait()
        unreachable = await warroom("triage", server=node, token=token)
        assert unreachable.code == 1
        assert unreachable.err.startswith("warroom: Alertmanager unreachable: ")
        # As last known, never "resolved":
        assert unreachable.out.split("\t")[1:5] == ["CheckoutLatencyHigh", "SEV3", "3m", "firing"]


async def test_an_undeclared_item_whose_alert_resolved_ages_out(db_path: Path) -> None:
    token = await create_user(db_path, "oncall")
    now = [datetime.now(UTC)]
    config = ServerConfig.model_validate(
        {"alertmanager": {"webhook_token": "x" * 16, "keep_resolved_minutes": 30}}
    )
    async with await start_node(
        db_path, TEST_SETTINGS, config=config, clock=lambda: now[0]
    ) as node:
        desk = node.integrations.triage
        await desk.reconcile([waiting_alert(now[0])])
        await desk.reconcile([])  # the same Alertmanager no longer lists it: resolved
        listed = await warroom("triage", server=node, token=token)
        assert listed.code == 0, listed.err
        assert listed.out.split("\t")[1:5] == ["CheckoutLatencyHigh", "SEV3", "3m", "resolved"]
        now[0] += timedelta(minutes=31)
        assert desk.listed() == []
        aged = await warroom("triage", server=node, token=token)
        assert (aged.code, aged.out) == (0, "")


async def test_triage_all_shows_who_dismissed_an_item_when_and_why(db_path: Path) -> None:
    token = await create_user(db_path, "oncall")
    config = ServerConfig.model_validate({"alertmanager": {"webhook_token": "x" * 16}})
    async with await start_node(db_path, TEST_SETTINGS, config=config) as node:
        await node.integrations.triage.reconcile([waiting_alert(datetime.now(UTC))])
        dismissed = await warroom(
            "triage", "dismiss", "1", "--reason", "load test [red]x[/red]", server=node, token=token
        )
        assert dismissed.code == 0, dismissed.err
        open_only = await warroom("triage", server=node, token=token)
        assert (open_only.code, open_only.out) == (0, "")
        audit = await warroom("triage", "--all", server=node, token=token)
        assert audit.code == 0, audit.err
        fields = audit.out.rstrip("\n").split("\t")
        assert fields[:2] == ["1", "CheckoutLatencyHigh"]
        assert fields[-1].startswith("dismissed by oncall at ")
        assert fields[-1].endswith(" UTC: load test [red]x[/red]")
