"""A read shared by the callers asking together: a failure answers all of them and the next call
reads again; one caller giving up leaves the others their answer."""

from __future__ import annotations

import asyncio

import pytest

from warroom.server.shared_read import SharedRead
from warroom.store.base import StoreError


async def test_a_failed_read_answers_every_waiter_and_the_next_call_reads_again() -> None:
    outcomes: list[StoreError | int] = [StoreError("database is locked"), 7]

    async def read() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    shared = SharedRead(read)
    answers = await asyncio.gather(shared(), shared(), shared(), return_exceptions=True)
    assert [type(a) for a in answers] == [StoreError] * 3
    assert await shared() == 7
    assert outcomes == []


async def test_a_caller_that_gives_up_leaves_the_others_their_answer() -> None:
    release = asyncio.Event()
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        await release.wait()
        return reads

    shared = SharedRead(read)
    leaving = asyncio.create_task(shared())
    staying = asyncio.create_task(shared())
    await asyncio.sleep(0)  # one turn of the loop: both ask, the read begins
    leaving.cancel()
    release.set()
    assert await staying == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert reads == 1
