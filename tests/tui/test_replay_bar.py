"""The replay bar at 80 columns: it fits, and what it gives up is what a reader can spare (the
"since declared", the date, "of"), never whether it plays and where it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from warroom.tui.replay_format import ReplayPosition, replay_bar

from .test_replay_play import replay_at_first_event

AT = datetime(2024, 5, 2, 15, 20, 5, tzinfo=UTC)


def position(
    description: str = "alice: severity changed", speed: int | None = 60
) -> ReplayPosition:
    return ReplayPosition(
        seq=1_234,
        last=5_678,
        at=AT,
        declared=AT - timedelta(hours=1, minutes=20, seconds=5),
        speed=speed,
        description=description,
    )


def test_a_wide_bar_says_everything_in_full() -> None:
    bar = replay_bar(position(), UTC, 160).plain
    assert bar == (
        " REPLAY  event 1,234 of 5,678 · 2024-05-02 15:20:05 · +1:20:05 since declared · "
        "playing 60x · alice: severity changed"
    )


@pytest.mark.parametrize("speed", [10, 60, None])
def test_at_80_columns_the_bar_fits_and_keeps_position_time_and_play_state(
    speed: int | None,
) -> None:
    bar = replay_bar(position(speed=speed), UTC, 80).plain
    assert len(bar) <= 80
    assert bar.startswith(" REPLAY  event 1,234/5,678 · 15:20:05 · +1:20:05 · ")
    assert ("paused" if speed is None else f"playing {speed}x") in bar
    assert "alice: sev" in bar  # what happened, shortened if it must be


def test_a_long_description_is_shortened_then_dropped_never_the_rest() -> None:
    long = "a-very-long-user-name-of-32-char: external update approved"
    bar = replay_bar(position(long), UTC, 80).plain
    assert len(bar) <= 80
    assert bar.endswith("…")
    assert "playing 60x" in bar
    narrow = replay_bar(position(long), UTC, 64).plain
    assert narrow == " REPLAY  event 1,234/5,678 · 15:20:05 · +1:20:05 · playing 60x"


@pytest.mark.parametrize("name", ["事故対応チームの指揮官さん", "🚒🚒🚒🚒🚒🚒🚒🚒🚒🚒🚒🚒🚒🚒🚒"])
def test_a_description_of_wide_characters_is_fitted_by_columns(name: str) -> None:
    bar = replay_bar(position(f"{name}: external update approved"), UTC, 80)
    assert bar.cell_len <= 80
    assert bar.plain.endswith("…")
    assert "playing 60x" in bar.plain


async def test_the_replay_bar_fits_an_80x24_terminal_while_playing() -> None:
    async with replay_at_first_event((80, 24)) as (pilot, screen, frames):
        await pilot.press("space")
        frames.advance(2)
        await pilot.pause()
        bar = screen.query_one("#replay-bar", Static)
        drawn = "".join(segment.text for segment in bar.render_line(0)).rstrip()
        assert "…" not in drawn[:60]  # nothing but the description is ever cut
        assert "playing 10x" in drawn
        assert drawn.startswith(" REPLAY  event ")
        assert len(drawn) <= 80


async def test_at_80_columns_the_replay_footer_offers_play_step_and_leave() -> None:
    async with replay_at_first_event((80, 24)) as (pilot, screen, _):
        await pilot.pause()
        keys = sorted(screen.query(FooterKey).results(FooterKey), key=lambda k: k.region.x)
        for key in keys:
            assert key.region.width > 0, key.description
            assert key.region.right <= 80, key.description
        shown_keys = [f"{key.key_display} {key.description}" for key in keys]
        assert shown_keys[:5] == ["? Help", "space Play/pause", "→ Step", "← Back", "esc Leave"]
