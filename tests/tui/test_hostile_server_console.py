"""A console drawing a snapshot a hostile server made, compact or columnar: it validates, so the
console keeps its rows or columns and builds each entry only when a pane draws it. Compact rows
with naive times, times before year 1 and after 9999 in UTC, ids out of order, repeated and past
2^64, and investigation links over a declaration in year 1; columns of ids likewise, times at
both ends of the calendar and negative ones, the same kind and author named twice; Rich markup,
escape codes, OSC 8 links and bidi controls in every string of both. They are drawn in the
console, the entry detail and the big-room view as inert text, without an exception in any
paint."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.domain.factories import Log
from tests.support.stand_in_server import stand_in
from warroom.domain.events import EntryAdded
from warroom.domain.timeline import EntryKind
from warroom.domain.timeline_columns import EARLIEST_MICROS, LATEST_MICROS
from warroom.protocol.columnar import columnar_state_json
from warroom.protocol.compact import SNAPSHOT_ROW_FIELDS, compact_state_json
from warroom.tui.app import make_app
from warroom.tui.screens.entry_detail import EntryDetailScreen
from warroom.tui.screens.projector import ProjectorScreen
from warroom.tui.widgets.scribe_input import ScribeInput

from .harness import until

HOSTILE = "[b]x[/b]\x1b[2J\x1b]8;;http://evil.example\x07\u202e"
HOSTILE_WIDE = HOSTILE + "\u5de5"
"""With a wide character, which takes two cells."""
LINKS = {
    "default": {
        "dashboard": "https://grafana.example/d?from={from}&to={to_ms}",
        "traces": "https://traces.example/?cid={correlation_id}&from={from}",
    }
}


def _hostile_state() -> dict[str, Any]:
    log = Log()
    for n in range(5):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}", correlation_id="req-1"))
    state: dict[str, Any] = json.loads(compact_state_json(log.state.model_dump_json()))
    state["incident"]["declared_at"] = "0001-01-01T00:00:00Z"
    state["incident"]["title"] = HOSTILE
    rows = state["timeline"]
    at = SNAPSHOT_ROW_FIELDS.index
    rows[0][at("at")] = "2024-01-01T00:00:00"  # naive
    rows[1][at("at")] = "0001-01-01T00:00:00+14:00"
    rows[1][at("typed_at")] = "9999-12-31T23:59:59-14:00"
    rows[2][at("occurred_at")] = "0001-01-01T00:00:00Z"
    rows[3][at("id")] = 10**30
    rows[4][at("id")] = rows[5][at("id")]
    for row in rows:
        row[at("text")] = HOSTILE * 20
        row[at("author")] = HOSTILE
        row[at("tags")] = [HOSTILE]
        row[at("mentions")] = [HOSTILE]
        row[at("struck_reason")] = HOSTILE
    rows[5][at("struck")] = True
    rows[6][at("revisions")] = [
        {"text": HOSTILE, "changed_by": HOSTILE, "changed_at": "0001-01-01T00:00:00Z"}
    ]
    rows.reverse()
    return state


def _hostile_columnar_state() -> dict[str, Any]:
    log = Log()
    for n in range(6):
        log.add("scribe", EntryAdded(kind=EntryKind.NOTE, text=f"n{n}", correlation_id="req-1"))
    state: dict[str, Any] = json.loads(columnar_state_json(log.state.model_dump_json()))
    state["incident"]["title"] = HOSTILE_WIDE
    columns = state["timeline"]
    count = len(columns["id"])
    columns["id"][0] = 10**30
    columns["id"][1] = columns["id"][2]
    columns["id"].reverse()
    columns["kinds"] = ["note", "note", "action"]
    columns["kind"] = [n % 3 for n in range(count)]
    columns["authors"] = [HOSTILE_WIDE, HOSTILE_WIDE]
    columns["author"] = [n % 2 for n in range(count)]
    columns["text"] = [HOSTILE_WIDE * 20] * count
    columns["at"][0] = EARLIEST_MICROS
    columns["at"][1] = LATEST_MICROS
    columns["at"][2] = -1
    columns["occurred_at"] = [EARLIEST_MICROS, None, LATEST_MICROS] + [None] * (count - 3)
    columns["typed_at"] = [LATEST_MICROS, EARLIEST_MICROS] + [None] * (count - 2)
    columns["next_update_at"] = [EARLIEST_MICROS] * count
    columns["correlation_id"] = [HOSTILE_WIDE] * count
    columns["tags"] = [[HOSTILE_WIDE]] * count
    columns["mentions"] = [[HOSTILE_WIDE]] * count
    columns["struck"] = [n % 2 == 0 for n in range(count)]
    columns["struck_reason"] = [HOSTILE_WIDE] * count
    revision = {
        "text": HOSTILE_WIDE,
        "changed_by": HOSTILE_WIDE,
        "changed_at": "0001-01-01T00:00:00Z",
    }
    columns["revisions"] = [[revision]] * count
    return state


def _timeline_length(state: dict[str, Any]) -> int:
    timeline = state["timeline"]
    return len(timeline["id"]) if isinstance(timeline, dict) else len(timeline)


@pytest.mark.parametrize(
    ("frame_type", "hostile_state", "welcome"),
    [
        ("compact_snapshot", _hostile_state, {"server": HOSTILE, "links": LINKS}),
        (
            "columnar_snapshot",
            _hostile_columnar_state,
            {"features": ["compact", "compact_snapshot", "columnar_snapshot"]},
        ),
    ],
    ids=["compact", "columnar"],
)
async def test_a_hostile_snapshot_is_drawn_inert_in_every_view(
    frame_type: str,
    hostile_state: Callable[[], dict[str, Any]],
    welcome: dict[str, Any],
) -> None:
    state = hostile_state()
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], _: int) -> list[dict[str, Any]]:
        reply = {"type": frame_type, "id": frame["id"], "incident_id": 1}
        return [{**reply, "seq": state["seq"], "head": state["seq"], "state": state}]

    async with stand_in(answer, asked, welcome) as client:
        app = make_app(client, incident_id=1, clock=lambda: datetime(2026, 11, 30, tzinfo=UTC))
        async with app.run_test(size=(160, 50)) as pilot:
            await until(client, lambda: 1 in client.states, what="the snapshot")
            await pilot.pause()
            subscribe = next(f for f in asked if f["type"] == "subscribe")
            assert subscribe.get(frame_type) is True
            timeline = client.states[1].timeline
            assert len(timeline) == _timeline_length(state)
            assert timeline.unbuilt < len(timeline)  # the panes built what they drew
            shown = app.export_screenshot()
            assert "[b]x[/b]" in shown
            assert "\x1b" not in shown
            assert "\u202e" not in shown
            assert "8;;http://evil.example\u2407" in shown  # the link's escape shown as text
            for key in ("end", "home", "down", "down", "enter"):
                await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, EntryDetailScreen)
            assert "\x1b" not in app.export_screenshot()
            await pilot.press("escape", "v")
            await pilot.pause()
            assert isinstance(app.screen, ProjectorScreen)
            assert "\x1b" not in app.export_screenshot()


async def test_a_back_dated_line_in_an_incident_declared_in_year_1_does_not_crash_the_console() -> (
    None
):
    """The Scribe line checks a typed time against the window from the declaration, which a
    hostile server put in year 1: 30 days before it is no date at all."""
    state = _hostile_state()
    asked: list[dict[str, Any]] = []

    def answer(frame: dict[str, Any], _: int) -> list[dict[str, Any]]:
        reply = {"type": "compact_snapshot", "id": frame["id"], "incident_id": 1}
        return [{**reply, "seq": state["seq"], "head": state["seq"], "state": state}]

    async with stand_in(answer, asked, {"user": "scribe"}) as client:
        app = make_app(client, incident_id=1, clock=lambda: datetime(2026, 11, 30, 12, tzinfo=UTC))
        async with app.run_test(size=(160, 50)) as pilot:
            await until(client, lambda: 1 in client.states, what="the snapshot")
            await pilot.pause()
            await pilot.press("i")
            app.screen.query_one(ScribeInput).value = "10:00 rolled back"
            await pilot.press("enter")
            await until(
                client,
                lambda: any(f["type"] == "add_entry" for f in asked),
                what="the entry sent",
            )
            sent = next(f for f in asked if f["type"] == "add_entry")
            assert sent["text"] == "rolled back"
            assert sent["occurred_at"].startswith("2026-11-30T10:00")
