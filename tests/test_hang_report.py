"""The hang report names every pending task and the await each one is suspended in."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.hang_report import dump_tasks


async def test_the_dump_names_each_pending_task_and_the_await_it_hangs_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stuck = asyncio.Event()

    async def waits_forever() -> None:
        await stuck.wait()

    task = asyncio.create_task(waits_forever(), name="waits-for-an-event-nobody-sets")
    await asyncio.sleep(0)  # let it reach its await
    dump_tasks(asyncio.get_running_loop(), "for the test")
    task.cancel()
    err = capsys.readouterr().err
    assert "=== for the test: 2 asyncio tasks ===" in err
    assert "waits-for-an-event-nobody-sets" in err
    assert "await stuck.wait()" in err
