"""Replay on a long incident: jumping to any event of a 100,000-event log, in memory.

The log is generated (`bench.incident_log`: every kind of event, mostly entries). Figures: the
time to fold it once with its checkpoints, then random jumps anywhere (the same seeded order each
run), single steps back, and the worst jump: to the event just before a checkpoint, the longest
fold there is.
"""

from __future__ import annotations

import gc
import random
import time

from bench.harness import Results, Settings
from bench.incident_log import generated_incident
from warroom.domain.replay_index import CHECKPOINT_EVERY, ReplayIndex

EVENTS = 100_000
JUMPS = 300


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
    for seq in range(events - 1, events - 51, -1):
        began = time.perf_counter()
        index.state_at(seq)
        backs.append(_ms(began))
    results.put("replay.step_back_p50_ms", _percentile(backs, 0.5))
    worst = []
    for checkpoint in range(CHECKPOINT_EVERY + 1, events, events // 10):
        index.state_at(events)  # from far away, so the fold starts at the checkpoint
        began = time.perf_counter()
        index.state_at(checkpoint + CHECKPOINT_EVERY - 1)
        worst.append(_ms(began))
    results.put("replay.jump_worst_ms", max(jumps + worst))
