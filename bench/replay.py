"""Replay on a long incident: jumping to any event of a 100,000-event log, in memory.

The log is generated (`bench.incident_log`: every kind of event, mostly entries). Figures: the
time to fold it once with its checkpoints, then random jumps anywhere (the same seeded order each
run), single steps back (the first in a window of checkpoints, and the ones after it), the worst
jump (to the event just before a checkpoint, the longest fold there is), and jumps on the replay
app itself, headless, timed from the jump to the paint that shows it.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from functools import partial
from typing import Any

from bench.harness import Results, Settings
from bench.incident_log import generated_incident
from bench.tui import PaintProbe
from warroom.domain.replay_index import CHECKPOINT_EVERY, ReplayIndex

EVENTS = 100_000
JUMPS = 300
STEPS_BACK = 600
"""Single steps back from the end: across a window boundary, so two first steps are in it."""
PAINTED_JUMPS = 40
SIZE = (160, 48)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1e3


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(settings: Settings, results: Results) -> None:
    events = 20_000 if settings.quick else EVENTS
    print(f"  replay: generating a {events:,}-event incident", flush=True)
    log = generated_incident(events)
    started = time.perf_counter()
    index = ReplayIndex(log)
    results.put("replay.events", events)
    results.put("replay.index_s", _ms(started) / 1e3)
    # As the replay app does once the log is folded: the collector leaves the checkpoints be.
    gc.collect()
    gc.freeze()
    rng = random.Random(15)
    jumps = []
    for _ in range(JUMPS):
        target = rng.randint(1, events)
        began = time.perf_counter()
        index.state_at(target)
        jumps.append(_ms(began))
    results.put("replay.jump_p50_ms", _percentile(jumps, 0.5))
    results.put("replay.jump_p99_ms", _percentile(jumps, 0.99))
    backs = []
    index.state_at(events)
    for seq in range(events - 1, events - 1 - STEPS_BACK, -1):
        began = time.perf_counter()
        index.state_at(seq)
        backs.append(_ms(began))
    results.put("replay.step_back_p50_ms", _percentile(backs, 0.5))
    results.put("replay.step_back_max_ms", max(backs))
    worst = []
    for checkpoint in range(CHECKPOINT_EVERY + 1, events, events // 10):
        index.state_at(events)  # from far away, so the fold starts at the checkpoint
        began = time.perf_counter()
        index.state_at(checkpoint + CHECKPOINT_EVERY - 1)
        worst.append(_ms(began))
    results.put("replay.jump_worst_ms", max(jumps + worst))
    print(f"  replay: {PAINTED_JUMPS} jumps on the app, to the paint", flush=True)
    figures = asyncio.run(_painted_jumps(index, rng))
    for name, values in figures.items():
        results.put(f"replay.{name}_p50_ms", _percentile(values, 0.5))
        results.put(f"replay.{name}_p99_ms", _percentile(values, 0.99))


def _shown(screen: Any, view: Any, seq: int, marked: frozenset[int]) -> bool:
    return bool(screen.seq == seq and view._highlighted == marked)


async def _painted_jumps(index: ReplayIndex, rng: random.Random) -> dict[str, list[float]]:
    """Jumps to random events on the replay app, each timed from the jump (queued as a key's
    action is) to the first paint with that event's entries marked (`painted`: the fold, every
    pane's update and the timeline's, and the compositor's frame), and to the last paint the jump
    causes before the app is idle (`settled`: what the panes draw a frame later, such as the
    checklist once its table has measured new rows). Each also as this process's CPU time over
    the same span (`*_cpu`), in milliseconds."""
    from warroom.tui.replay_app import make_replay_app
    from warroom.tui.screens.replay import ReplayScreen
    from warroom.tui.widgets.timeline_view import TimelineView

    app = make_replay_app(index, at=index.last)
    probe = PaintProbe(app)
    figures: dict[str, list[float]] = {
        "painted": [],
        "painted_cpu": [],
        "settled": [],
        "settled_cpu": [],
    }
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        view = screen.query_one(TimelineView)
        for _ in range(PAINTED_JUMPS):
            target = rng.randint(1, index.last)
            marked = index.changed_entry_ids(target)
            began = time.perf_counter()
            began_cpu = time.process_time()
            app.call_later(screen.go_to, target)
            shown = await probe.painted(partial(_shown, screen, view, target, marked))
            figures["painted"].append((shown - began) * 1e3)
            figures["painted_cpu"].append((probe.cpu_at_paint - began_cpu) * 1e3)
            await pilot.pause()
            settled, settled_cpu = probe.last_paint
            figures["settled"].append((settled - began) * 1e3)
            figures["settled_cpu"].append((settled_cpu - began_cpu) * 1e3)
    return figures
