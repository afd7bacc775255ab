"""A console drawing a columnar snapshot a hostile server made: it validates (columns of one
length, codes within their lists, times within the calendar) yet holds ids out of order,
repeated and past 2^64, times at both ends of the calendar and negative ones, the same kind and
author named twice, and Rich markup, escape codes, OSC 8 links and bidi controls in every
string. The console, the entry detail and the big-room view draw it as inert text, without an
exception in any paint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.domain.factories import Log
from tests.support.stand_in_server import stand_in
from warroom.domain.events import EntryAdded
from warroom.domain.timeline import EntryKind
from warroom.domain.timeline_columns import EARLIEST_MICROS, LATEST_MICROS
from warroom.protocol.columnar import columnar_state_json
from warroom.tui.app import make_app
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.screens.projector import ProjectorScreen

from .harness import until

HOSTILE = "[b]x[/b]\x1b[2J\x1b]8;;http://evil.example\x07\u202e\u5de5"
FEATURES = ["compact", "compact_snapshot", "columnar_snapshot"]


def _hostile_columnar_state() -> dict[str, Any]:
    log = Log()
    for n in range(6):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}", correlation_id="req-1"))
    state: dict[str, Any] = json.loads(columnar_state_json(log.state.model_dump_json()))
    state["incident"]["title"] = HOSTILE
    columns = state["timeline"]
    count = len(columns["id"])
    columns["id"][0] = 10**30
    columns["id"][1] = columns["id"][2]
    columns["id"].reverse()
    columns["kinds"] = ["note", "note", "action"]
    columns["kind"] = [n % 3 for n in range(count)]
    columns["authors"] = [HOSTILE, HOSTILE]
    columns["author"] = [n % 2 for n in range(count)]
    columns["text"] = [HOSTILE * 20] * count
    columns["at"][0] = EARLIEST_MICROS
    columns["at"][1] = LATEST_MICROS
    columns["at"][2] = -1
    columns["occurred_at"] = [EARLIEST_MICROS, None, LATEST_MICROS] + [None] * (count - 3)
    columns["typed_at"] = [LATEST_MICROS, EARLIEST_MICROS] + [None] * (count - 2)
    columns["next_update_at"] = [EARLIEST_MICROS] * count
    columns["correlation_id"] = [HOSTILE] * count
    columns["tags"] = [[HOSTILE]] * count
    columns["mentions"] = [[HOSTILE]] * count
    columns["struck"] = [n % 2 == 0 for n in range(count)]
    columns["struck_reason"] = [HOSTILE] * count
    revision = {"text": HOSTILE, "changed_by": HOSTILE, "changed_at": "0001-01-01T00:00:00Z"}
    columns["revisions"] = [[revision]] * count
    return state


async def test_a_hostile_columnar_snapshot_is_drawn_inert_in_every_view() -> None:
    state = _hostile_columnar_state()
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], _: int) -> list[dict[str, Any]]:
        reply = {"type": "columnar_snapshot", "id": frame["id"], "incident_id": 1}
        return [{**reply, "seq": state["seq"], "head": state["seq"], "state": state}]

    async with stand_in(answer, asked, {"features": FEATURES}) as client:
        app = make_app(client, incident_id=1, clock=lambda: datetime(2026, 11, 30, tzinfo=UTC))
        async with app.run_test(size=(160, 50)) as pilot:
            await until(client, lambda: 1 in client.states, what="the snapshot")
            await pilot.pause()
            subscribe = next(f for f in asked if f["type"] == "subscribe")
            assert subscribe.get("columnar_snapshot") is True
            timeline = client.states[1].timeline
            assert len(timeline) == len(state["timeline"]["id"])
            shown = app.export_screenshot()
            assert "[b]x[/b]" in shown
            assert "\x1b" not in shown
            assert "\u202e" not in shown
            for key in ("end", "home", "down", "down", "enter"):
                await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, EntryDetailScreen)
            assert "\x1b" not in app.export_screenshot()
            await pilot.press("escape", "v")
            await pilot.pause()
            assert isinstance(app.screen, ProjectorScreen)
            assert "\x1b" not in app.export_screenshot()
