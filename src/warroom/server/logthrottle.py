"""Repeated log lines are let through a few at a time: a server out of file descriptors, or a
client that fails the same way thousands of times, must not fill the disk with one error."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

BURST = 5
"""Identical lines (same logger, level and message template) let through per window."""
WINDOW = 60.0
"""Seconds; after a window with suppressed lines, the next line says how many were dropped."""
MAX_KEYS = 1_000
"""Distinct lines remembered; the stalest are forgotten first, so the table stays small."""

THROTTLED_LOGGERS = (
    "asyncio",
    "websockets.server",
    "websockets.asyncio.server",
    "warroom",
)
"""Where the server's repeatable errors are logged: the event loop's accept() failures,
websockets' handshake failures, and warroom's own."""


class RepeatFilter(logging.Filter):
    """Lets `burst` identical records through per `window` seconds and drops the rest, then
    notes on the next one let through how many were dropped."""

    def __init__(
        self,
        burst: int = BURST,
        window: float = WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._burst = burst
        self._window = window
        self._monotonic = monotonic
        # key -> (window start, lines seen in the window, lines dropped so far)
        self._seen: OrderedDict[tuple[str, int, str], tuple[float, int, int]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self._monotonic()
        start, count, dropped = self._seen.pop(key, (now, 0, 0))
        if now - start >= self._window:
            start, count = now, 0
        count += 1
        allowed = count <= self._burst
        if allowed and dropped:
            record.msg = f"{record.msg} [{dropped} identical lines suppressed]"
            dropped = 0
        elif not allowed:
            dropped += 1
        self._seen[key] = (start, count, dropped)
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)
        return allowed


def install(names: Iterable[str] = THROTTLED_LOGGERS) -> Callable[[], None]:
    """Put one shared `RepeatFilter` on the handlers that records from `names` reach (a logger's
    own filters do not see its children's records), and return what undoes it."""
    repeat = RepeatFilter()
    handlers: set[logging.Handler] = set()
    for name in names:
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            handlers.update(logger.handlers)
            logger = logger.parent if logger.propagate else None
    for handler in handlers:
        handler.addFilter(repeat)

    def uninstall() -> None:
        for handler in handlers:
            handler.removeFilter(repeat)

    return uninstall
