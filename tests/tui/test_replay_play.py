"""Replay playing at 10x and 60x, frame by frame: the test delivers the frames itself, so each
one moves the incident's clock by exactly a frame of incident time at the speed chosen."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from bench.incident_log import generated_incident
from textual.pilot import Pilot
from textual.widgets import Static

from tests.export.scripted import scripted_incident
from warroom.tui import collector_pacing
from warroom.tui.collector_pacing import STILL_MINIMUM, YOUNG_BOUND
from warroom.tui.replay_app import make_replay_app
from warroom.tui.screens.replay import FRAME, ReplayScreen, Ticks


class Frames:
    """A tick source the test drives: `advance(n)` delivers n frames at once."""

    def __init__(self) -> None:
        self.frame: Callable[[], None] | None = None
        self.started = 0

    def __call__(self, every: float, frame: Callable[[], None]) -> Ticks:
        assert every == FRAME
        self.frame = frame
        self.started += 1
        return self

    def stop(self) -> None:
        self.frame = None

    @property
    def running(self) -> bool:
        return self.frame is not None

    def advance(self, frames: int = 1) -> None:
        for _ in range(frames):
            if self.frame is None:
                return
            self.frame()


@asynccontextmanager
async def replay_at_first_event(
    size: tuple[int, int] = (120, 36),
) -> AsyncIterator[tuple[Pilot[None], ReplayScreen, Frames]]:
    """The scripted incident's replay at its first event, its frames delivered by the test."""
    _, events = scripted_incident()
    frames = Frames()
    app = make_replay_app(events, at=1, ticks=frames)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        yield pilot, screen, frames


def shown(screen: ReplayScreen, widget_id: str) -> str:
    """What the Static `widget_id` (the replay bar, the header's corner) says."""
    return str(screen.query_one(f"#{widget_id}", Static).content)


async def plays(
    pilot: Pilot[None], screen: ReplayScreen, frames: Frames, count: int, since: datetime
) -> datetime:
    """Deliver `count` frames: the incident clock moves `count` frames of incident time at the
    screen's speed from `since`, the replay shows the event of that moment and says it plays at
    that speed. Returns the new incident time."""
    frames.advance(count)
    await pilot.pause()
    now = since + timedelta(seconds=count * FRAME * screen.speed)
    assert screen.now == now
    assert screen.seq == max(1, screen.index.seq_at_time(now))
    assert f"playing {screen.speed}x" in shown(screen, "replay-bar")
    return now


async def test_play_moves_the_incident_clock_a_frame_at_10x_then_60x_and_stops_at_the_end() -> None:
    async with replay_at_first_event() as (pilot, screen, frames):
        start = screen.index.at(1)
        assert screen.now == start
        await pilot.press("space")
        assert frames.running
        assert screen.playing
        assert screen.speed == 10
        at_10x = await plays(pilot, screen, frames, 3, start)
        await pilot.press("x")
        assert screen.speed == 60
        at_60x = await plays(pilot, screen, frames, 2, at_10x)
        # The header's clock is the incident's own time while it plays.
        clock = shown(screen, "header-connection")
        assert "⏵ REPLAY" in clock
        assert at_60x.astimezone(screen.zone).strftime("%H:%M:%S") in clock
        # On to the end: play stops on the last event by itself.
        span = (screen.index.at(screen.index.last) - at_60x).total_seconds()
        frames.advance(int(span / (FRAME * 60)) + 2)
        await pilot.pause()
        assert screen.seq == screen.index.last
        assert not frames.running
        assert not screen.playing
        assert "paused" in shown(screen, "replay-bar")
        assert "⏸ REPLAY" in shown(screen, "header-connection")


async def test_space_pauses_and_x_switches_back_to_10x() -> None:
    async with replay_at_first_event() as (pilot, screen, frames):
        await pilot.press("space")
        frames.advance(1)
        await pilot.press("space")
        assert not frames.running
        assert not screen.playing
        paused_at = screen.now
        frames.advance(5)  # nothing delivers frames to a paused replay
        assert screen.now == paused_at
        await pilot.press("x", "x")
        assert screen.speed == 10


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (240, 64)], ids=str)
async def test_the_header_says_replay_and_shows_the_incident_clock_at_every_size_class(
    size: tuple[int, int],
) -> None:
    async with replay_at_first_event(size) as (pilot, screen, frames):
        await pilot.press("space")
        frames.advance(4)
        await pilot.pause()
        corner = screen.query_one("#header-connection", Static)
        assert corner.region.width > 0  # laid out on screen, not hidden at this size
        assert "⏵ REPLAY" in str(corner.content)
        assert screen.now is not None
        assert screen.now.astimezone(screen.zone).strftime("%H:%M:%S") in str(corner.content)


async def test_playing_a_long_log_at_60x_keeps_what_waits_for_the_collector_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Automatic collection is off while a replay is shown (a young collection took 70-85 ms
    inside a far jump); playing never leaves the replay still, so the screen collects after the
    paint of the step that took the young generation past the bound, and every few times fully."""
    monkeypatch.setattr(collector_pacing, "FULL_EVERY", 3)  # the same rule, sooner
    passes: list[int] = []

    def counting(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            passes.append(info["generation"])

    frames = Frames()
    app = make_replay_app(generated_incident(4000, seed=3), at=1, ticks=frames)
    gc.callbacks.append(counting)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ReplayScreen)
            assert not gc.isenabled()
            await pilot.press("space", "x")
            assert screen.speed == 60
            passes.clear()  # the ones before playing: the start-up's and the first paint's freeze
            young: list[int] = []
            promoted: list[int] = []
            tracked: list[int] = []
            while frames.running and len(passes) < 4:
                frames.advance(40)
                await pilot.pause()
                young.append(gc.get_count()[0])
                promoted.append(gc.get_count()[2])
                tracked.append(len(gc.get_objects()))
            assert screen.seq > 1000  # a long stretch of the log played
            # Young and middle collections, one in three a full one.
            assert passes.count(1) >= 2
            assert 2 in passes
            # What waits for a young collection stays under the bound plus one batch of frames;
            # what young collections moved on to the old generation waits for at most three.
            assert max(young) < 2 * YOUNG_BOUND
            assert max(promoted) < 3
            # The full collection freed what had been moved on to the old generation and died.
            full = next(n for n, count in enumerate(promoted) if n and count < promoted[n - 1])
            assert tracked[full] < tracked[full - 1]
        assert gc.isenabled()  # the console's own collection is back once the replay is gone
    finally:
        gc.callbacks.remove(counting)


async def test_a_still_replay_collects_what_waits_at_pythons_own_pace() -> None:
    """With automatic collection off, a replay left on screen (while the console's connection
    goes on receiving) still collects: its timer looks while no step comes."""
    collected = asyncio.Event()

    def noting(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.set()

    async with replay_at_first_event() as (pilot, _, _):
        await pilot.press("right")
        assert not gc.isenabled()
        gc.callbacks.append(noting)
        try:
            cycles = [_Cycle() for _ in range(STILL_MINIMUM)]
            freed = weakref.ref(cycles[-1])
            del cycles
            assert freed() is not None  # in a cycle: reference counting cannot free it
            assert gc.get_count()[0] >= STILL_MINIMUM
            async with asyncio.timeout(30):
                await collected.wait()
            assert freed() is None
        finally:
            gc.callbacks.remove(noting)


class _Cycle:
    """An object that refers to itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self
