"""Replay playing at 10x and 60x, frame by frame: the test delivers the frames itself, so each
one moves the incident's clock by exactly a frame of incident time at the speed chosen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.export.scripted import scripted_incident
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
