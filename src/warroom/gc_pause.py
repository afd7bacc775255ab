"""Keeping Python's cyclic garbage collector out of the way: paused while a large batch of objects
is built, and kept off a started node's long-lived objects.

Parsing a snapshot or a long catch-up creates tens of thousands of long-lived objects; each
automatic collection walks all of them again, which measured as two thirds of the time to load
10,000 events. Nothing built in such a batch is cyclic garbage, so the collector waits until the
batch is done, and then the batch goes straight to the oldest generation: left in the youngest,
the first collections after the pause would walk all of it anyway (for 10,000 events applied, a
young pass of 40-60 ms at once and a middle one of 65-90 ms soon after, on the 2-core machine).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

LARGE_FRAME = 64 * 1024
"""Frames at least this long (in characters) are parsed and applied with the collector paused."""


@contextmanager
def paused_gc(pause: bool = True) -> Iterator[None]:
    """Run the block with automatic collection off (if `pause`), restoring it afterwards."""
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            # Freezing and unfreezing moves every tracked object to the oldest generation at no
            # cost (two list splices); a full collection still visits them, as it would anyway.
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def settle_started_process() -> None:
    """In a long-running node once it has started: collect once, then move everything alive
    (modules, the loaded incidents, caches) out of the cyclic collector's reach.

    A started node holds 50,000-70,000 tracked objects that live as long as it does; an automatic
    full collection walked all of them again: 40-80 ms of CPU at once in the middle of a burst of
    writes (measured with `gc.callbacks` on the bench's nodes), enough on its own to make a
    paced write's p99. Frozen objects are still freed by reference counting. The youngest
    generation keeps Python's threshold: raised to 5,000, its passes went from at most 1.2 ms
    of CPU to 2-4.5 ms (the middle one's to 9 ms) for about the same total, so longer stalls for
    the writes they hit. Call it once per process (the tests' in-process nodes do not: frozen
    objects that later become cyclic garbage are never collected)."""
    gc.collect()
    gc.freeze()
