"""When the cyclic garbage collector runs while a replay is on screen: between jumps, not in them.

A far jump in a long incident makes a new state whose entry list holds tens of thousands of
references, and Textual makes thousands of small objects to draw it (each `Strip` alone brings
seven caches). Almost all of it is freed by reference counting; a jump leaves a few thousand
objects in cycles (Textual's layout closures and the strips they hold). Yet a young collection
walks every object made since the last one, and the live state's entry list reference by
reference: 70-85 ms at 100,000 events after a few jumps, landing on whichever jump crossed the
threshold. So while the replay is shown, automatic collection is off and the screen collects
itself: while it has been still for `IDLE_AFTER` (a reviewer reading the screen), or right after
the paint of the step that took the young generation past `YOUNG_BOUND` (holding a key down, or
playing at 60x, never leaves it still), so what waits for collection cannot grow without limit.
What is long-lived is frozen once the first step is drawn, so these collections walk only what
the steps leave.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

IDLE_AFTER = 0.5
"""Seconds without a step before the replay collects what the steps left; while it stays still,
it looks again this often."""

STILL_MINIMUM = 700
"""Tracked objects waiting past which a still replay collects (Python's own young threshold): a
replay opened from the console stays still while the live connection goes on receiving."""

YOUNG_BOUND = 50_000
"""Tracked objects made (and not freed) since the last collection past which the replay
collects after its next paint even when never still: about ten far jumps at 100,000 events, a
few MB of garbage at most."""

FULL_EVERY = 10
"""One collection in this many is a full one: objects that outlived a young collection and are
garbage later (a strip cache left by a resized pane) are freed too."""


class ReplayCollections:
    """Automatic collection off while started (and the old setting back when stopped); the
    screen calls `collect_if_any` when still and `collect_if_due` after a step's paint."""

    def __init__(self) -> None:
        self._was_enabled: bool | None = None
        self._passes = 0

    def start(self) -> None:
        if self._was_enabled is None:
            self._was_enabled = gc.isenabled()
            gc.disable()

    def stop(self) -> None:
        if self._was_enabled is not None:
            if self._was_enabled:
                gc.enable()
            self._was_enabled = None

    @property
    def due(self) -> bool:
        """Whether the young generation has grown past the bound (a count of tracked objects
        made less those freed, kept by Python with automatic collection off too)."""
        return gc.get_count()[0] >= YOUNG_BOUND

    def collect_if_any(self) -> None:
        """Collect if more than a few objects wait: the pace of Python's own young collections."""
        if gc.get_count()[0] >= STILL_MINIMUM:
            self.collect()

    def collect_if_due(self) -> None:
        if self.due:
            self.collect()

    def collect(self) -> None:
        """Collect the young and middle generations, and every `FULL_EVERY`th time all of them."""
        self._passes += 1
        gc.collect(2 if self._passes % FULL_EVERY == 0 else 1)


RELEASE_TRIES = 40
RELEASE_EVERY = 0.05
"""How often, and how many times, a closed replay is looked for before freezing again anyway."""


async def release_closed(screen: Callable[[], object]) -> None:
    """Once a replay opened from the console is closed: let go of what it left (the screen and
    its widgets are cycles, which frozen objects never are collected from, and they hold the
    folded log), and freeze again what is still alive (the console's incident).

    Freezing again while Textual still holds the closing screen (its message loop ends a few
    turns after the pop) would freeze the screen and its log for good, so this waits for the
    collection that frees it (`screen` is a weak reference to it). Run it as the app's worker,
    started from the app's own loop: a task started in the screen's handler keeps the screen in
    its context."""
    gc.unfreeze()
    for _ in range(RELEASE_TRIES):
        gc.collect()
        if screen() is None:
            break
        await asyncio.sleep(RELEASE_EVERY)
    freeze_long_lived()


def freeze_long_lived() -> None:
    """Collect what is garbage now, then keep everything still alive out of the collector's
    walks (frozen objects are still freed by reference counting)."""
    gc.collect()
    gc.freeze()
