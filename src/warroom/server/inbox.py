"""The sequencer's queue of requests: first in, first out, waited on by its one task, and open to
a look at the request at its head.

`asyncio.Queue` without a bound, plus `peek`: a turn that holds some incidents' locks in a shared
database takes the requests queued behind it that write only those incidents into the same
commit, and must stop at the first that does not without taking it out of order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """Requests in arrival order, for one consumer task."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._arrived = asyncio.Event()

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        self._arrived.set()

    async def get(self) -> T:
        """The oldest request, waiting for one if there is none."""
        while not self._items:
            self._arrived.clear()
            await self._arrived.wait()
        return self._items.popleft()

    def get_nowait(self) -> T:
        """The oldest request; raises IndexError if there is none."""
        return self._items.popleft()

    def empty(self) -> bool:
        return not self._items

    def peek(self) -> T | None:
        """The oldest request, left in place; None if there is none."""
        return self._items[0] if self._items else None
