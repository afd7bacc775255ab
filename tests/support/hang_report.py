"""What every asyncio task of a test awaits, printed shortly before pytest-timeout ends the test.

pytest-timeout shows the main thread's stack, which for a hung asyncio test is the event loop's
`select()`: it says nothing about which await never returned. This plugin schedules, on the
test's own loop, a dump of every task's stack a little before the timeout, so the captured
output of a hung test names the awaits that hung (a loop blocked in a synchronous call cannot
run it; pytest-timeout's own stack covers that case).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

MARGIN = 30.0
"""Seconds before pytest-timeout's limit when the tasks are dumped."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every asyncio test the `hang_report` fixture."""
    for item in items:
        if item.get_closest_marker("asyncio") is not None and isinstance(item, pytest.Function):
            item.fixturenames.append("hang_report")


def dump_tasks(loop: asyncio.AbstractEventLoop, why: str) -> None:
    """Print every task of `loop` with the stack it is suspended in."""
    out = sys.stderr
    tasks = asyncio.all_tasks(loop)
    print(f"\n=== {why}: {len(tasks)} asyncio tasks ===", file=out)
    for task in sorted(tasks, key=lambda t: t.get_name()):
        print(f"--- {task!r}", file=out)
        task.print_stack(limit=12, file=out)
    out.flush()


@pytest.fixture
async def hang_report(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Dump the test's tasks `MARGIN` seconds before pytest-timeout would end it."""
    config = request.config
    limit = float(config.getoption("timeout", None) or config.getini("timeout") or 0)
    marker = request.node.get_closest_marker("timeout")
    if marker is not None and marker.args:
        limit = float(marker.args[0])
    if limit <= MARGIN:
        yield
        return
    loop = asyncio.get_running_loop()
    handle = loop.call_later(
        limit - MARGIN, dump_tasks, loop, f"still running {limit - MARGIN:g} s in"
    )
    try:
        yield
    finally:
        handle.cancel()
