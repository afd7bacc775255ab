"""Spacing out the cyclic garbage collector's young collections while a replay is on screen.

A far jump in a long incident makes a new state whose entry list holds tens of thousands of
references, and Textual makes thousands of small objects to draw it. With Python's default
threshold (a young collection every 700 allocations) that was about 18 young collections per
jump, each walking that list again, and a middle one every few jumps: about 55 ms of a 150 ms
jump at 100,000 events went to the collector, finding nothing (the states are freed by reference
counting). A higher threshold makes it one young collection every few jumps; what is long-lived
is frozen once the first step is drawn, so the full collections that still come walk only what
the jumps leave.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Allocations between young collections while replaying (Python's default: 700). At most this
many objects' worth of cyclic garbage waits for its collection: a few MB."""


class SpacedCollections:
    """Raises the young generation's threshold while started, and puts the old one back."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._saved is None:
            young, middle, old = self._saved = gc.get_threshold()
            gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None


def thaw_and_refreeze() -> None:
    """Once a replay opened from the console is closed: let go of what it left (the screen and
    its widgets are cycles, which frozen objects never are collected from, and they hold the
    folded log), and freeze again what is still alive (the console's incident)."""
    gc.unfreeze()
    freeze_long_lived()


def freeze_long_lived() -> None:
    """Collect what is garbage now, then keep everything still alive out of the collector's
    walks (frozen objects are still freed by reference counting)."""
    gc.collect()
    gc.freeze()
