"""A batch built with the collector paused lands in the oldest generation, so the collections
after the pause do not walk it again; collection is back on afterwards, as it was before."""

from __future__ import annotations

import gc

from warroom.gc_pause import paused_gc


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


def test_a_batch_built_while_paused_goes_to_the_oldest_generation() -> None:
    with paused_gc():
        assert not gc.isenabled()
        batch = [{"entry": [n]} for n in range(1_000)]
        assert _in_generation(batch[-1], 0)
    assert gc.isenabled()
    assert not _in_generation(batch[-1], 0)
    assert not _in_generation(batch[-1], 1)
    assert _in_generation(batch[-1], 2)


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
