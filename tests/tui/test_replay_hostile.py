"""Replay of a hostile export: Rich markup, escape codes, bidi controls and Markdown in every
text field are shown as inert text at every step, and times out of the export's order never
break a jump."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App

from tests.export.scripted import HOSTILE, scripted_incident
from warroom.cli.actions import replay_app
from warroom.cli.parser import build_parser
from warroom.export.json_export import export_json
from warroom.tui.screens.replay import ReplayScreen


def _screen_text(app: App[None]) -> str:
    return app.export_screenshot()


async def test_hostile_text_in_every_field_replays_inert_at_every_step(tmp_path: Path) -> None:
    _, events = scripted_incident(lambda text: f"{text} {HOSTILE}", extra_tag="x[b]y")
    export = tmp_path / "hostile.json"
    export.write_text(export_json(events))
    app = await replay_app(build_parser().parse_args(["replay", "--file", str(export)]))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        for _ in events:
            await pilot.press("right")
        await pilot.pause()
        assert screen.seq == len(events)
        shown = _screen_text(app)
        assert "[red]x[/red]" in shown  # markup is shown as the text it is
        assert "\x1b" not in shown
        for key in ("home", "s", "end", "left"):
            await pilot.press(key)
        await pilot.pause()
        assert screen.state is not None


async def test_event_times_out_of_order_still_jump_and_step(tmp_path: Path) -> None:
    _, events = scripted_incident()
    document = json.loads(export_json(events))
    # A tampered export: the last events stamped years before the declaration.
    for event in document["events"][-5:]:
        event["at"] = "0001-01-02T10:00:00+00:00"
    document["events"][-1]["at"] = "9999-12-30T00:00:00Z"
    export = tmp_path / "backwards.json"
    export.write_text(json.dumps(document))
    app = await replay_app(build_parser().parse_args(["replay", "--file", str(export)]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        for key in ("end", "home", "s", "s", "end", "left", "left"):
            await pilot.press(key)
        await pilot.pause()
        assert screen.seq == len(events) - 2
        for key in ("right_square_bracket",) * 3 + ("left_square_bracket",) * 3:
            await pilot.press(key)
        await pilot.pause()
        assert 1 <= screen.seq <= len(events)
