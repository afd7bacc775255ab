"""Hypothesis strategies for client frames: valid commands with random roles, ids and expected
values, and every kind of garbage a socket can carry.

Frame types and their fields are read from the protocol models, so a new command is fuzzed as
soon as it exists. Values that depend on the running incident (its id, the current value of a
field) are placeholders, resolved when the frame is sent.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from warroom.domain.checklist import ItemState
from warroom.domain.communications import PublicState
from warroom.domain.limits import MAX_ENTRY_TEXT, MAX_FRAME_BYTES, MAX_TITLE
from warroom.domain.phase import Phase
from warroom.domain.roles import Role
from warroom.domain.timeline import EntryKind
from warroom.protocol.frames import ClientFrame

USERS = ("alice", "bob", "carol", "dave", "erin")
"""alice declares (IC), bob is TL, carol Scribe, dave CL, erin observes."""


@dataclass(frozen=True)
class Placeholder:
    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


INCIDENT = Placeholder("incident")
"""The example's incident."""
CURRENT = Placeholder("current")
"""The value the field has now on the server (so the write may succeed)."""
HUGE_TEXT = Placeholder("text over the limit")
HUGE_TITLE = Placeholder("title over the limit")
FRESH_ID = Placeholder("fresh id")
REPEATED_ID = Placeholder("an id this peer used before")


@dataclass(frozen=True)
class FromNow:
    """A time this far from the server's clock when the frame is sent, with this UTC offset."""

    minutes: int
    offset_minutes: int = 0


offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1)
"""Every UTC offset a time can carry (less than a day either way)."""
any_times = st.builds(
    lambda when, offset: when.replace(tzinfo=timezone(timedelta(minutes=offset))).isoformat(),
    st.datetimes(),  # naive, year 1 to 9999: the offset is added below
    offsets,
)
"""Any instant of the calendar, in any year, at any offset, as ISO 8601 text."""
near_times = st.builds(FromNow, st.integers(-60 * 24 * 40, 60 * 24 * 2), offsets)
"""Times around now (40 days back to 2 days ahead), some in a field's window, some not."""


def frame_models() -> dict[str, type[BaseModel]]:
    union = typing.get_args(ClientFrame)[0]
    return {m.model_fields["type"].default: m for m in typing.get_args(union)}


MODELS = frame_models()
FRAME_TYPES = sorted(MODELS)

HOSTILE = [
    "[bold red]x[/] [link=https://evil.example]y[/link]",
    "\x1b[2J\x1b]52;c;cm0gLXJm\x07",
    "\x9b31m\u202eevil\u2066",
    "<script>alert(1)</script>",
    "\x00\x7f\r\n\t",
    "\ud800 lone surrogate",
    "\U0001d566\U0001d55f\U0001d55a ✓ 🚨 שלום ünï",  # double-struck letters, emoji, RTL
    "",
    "   ",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
words = st.text(
    alphabet=st.characters(categories=["L", "N", "Zs", "P", "S"]), min_size=1, max_size=30
).filter(str.strip)
"""One-line text a person could type, in any script."""
texts = st.text(max_size=40) | st.sampled_from([*HOSTILE, HUGE_TEXT])
titles = st.text(max_size=30) | st.sampled_from([*HOSTILE, HUGE_TITLE, "API outage"])
small_ints = st.integers(min_value=-1, max_value=30)
services = st.sampled_from(["payments", "auth", "search"])

# Values that fit the field (the write may well be accepted: it depends on roles and state).
_VALID: dict[str, st.SearchStrategy[Any]] = {
    "incident_id": st.just(INCIDENT),
    "since": st.none() | st.integers(0, 30),
    "after": st.integers(0, 30),
    "severity": st.integers(1, 3),
    "phase": st.sampled_from([p.value for p in Phase]),
    "user": st.sampled_from(USERS),
    "owner": st.sampled_from([*USERS, None]),
    "entry_id": st.integers(1, 30),
    "item_id": st.integers(1, 6),
    "draft_id": st.integers(1, 5),
    "triage_id": st.integers(1, 5),
    "kind": st.sampled_from(["note", "decision", "action", "status", "todo"]),
    "text": words | st.sampled_from(HOSTILE[:5]),
    "status": words,
    "impact": words,
    "actions": words,
    "comment": words,
    "reason": words,
    "summary": words,
    "title": words.filter(lambda t: t.isprintable()),
    "service": services,
    "tags": st.lists(st.sampled_from(["db", "api/v2", "ok:1"]), max_size=3),
    "components": st.lists(services, max_size=2),
    "occurred_at": st.none() | st.builds(FromNow, st.integers(-600, 4), offsets),
    "next_update_at": st.none() | st.builds(FromNow, st.integers(-4, 24 * 60), offsets),
    "typed_at": st.none() | st.builds(FromNow, st.integers(-600, 4), offsets),
    "correlation_id": st.sampled_from(["req-42", None]),
}
_VALID_BY_TYPE: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("declare_incident", "triage_id"): st.none(),
    ("assign_role", "role"): st.sampled_from(["ic", "cl", "tl", "scribe"]),
    ("unassign_role", "role"): st.sampled_from(["cl", "tl", "scribe"]),
    ("set_item_state", "state"): st.sampled_from([s.value for s in ItemState]),
    ("draft_external_update", "state"): st.sampled_from([s.value for s in PublicState]),
}

# Anything at all, mostly wrong: other types, out of range, absurd sizes, unknown names.
_ANY: dict[str, st.SearchStrategy[Any]] = {
    "incident_id": st.sampled_from([999_999, 0, -3, "1", None, 2**70, 1.5, True]),
    "since": st.sampled_from([-1, "2", 2**70]),
    "severity": st.sampled_from([0, 4, "1", None, 2.0]),
    "phase": st.sampled_from(["closed", 1, None]),
    "role": st.sampled_from([*(r.value for r in Role), "admin", ""]),
    "user": st.sampled_from(["nobody-here", "Alice", "warroom", "", 7]),
    "owner": st.sampled_from(["nobody-here", ""]),
    "entry_id": small_ints | st.sampled_from(["3", None, 2**64]),
    "item_id": small_ints | st.sampled_from(["1", None, 2**64]),
    "draft_id": small_ints | st.sampled_from([None]),
    "triage_id": small_ints,
    "state": st.sampled_from(
        [*(s.value for s in ItemState), *(s.value for s in PublicState), "done!", None]
    ),
    "kind": st.sampled_from([*(k.value for k in EntryKind), "shell", None]),
    "text": texts,
    "status": texts,
    "impact": texts,
    "actions": texts,
    "comment": texts,
    "reason": texts,
    "summary": texts,
    "title": titles,
    "service": titles | st.none(),
    "tags": st.lists(st.sampled_from(["-bad", "", "x" * 41, "a b"]), min_size=1, max_size=3)
    | st.just(["t"] * 25),
    "components": st.lists(titles, max_size=3),
    "occurred_at": any_times
    | near_times
    | st.sampled_from(["2024-05-01T10:00:00", "soon", 5, "0001-01-01T00:00:00+14:00"]),
    "next_update_at": any_times
    | near_times
    | st.sampled_from(["never", 5, "9999-12-31T23:59:59-14:00"]),
    "correlation_id": st.sampled_from(["has space", "", "x" * 200]),
}


def _expected(frame_type: str) -> st.SearchStrategy[Any]:
    """Mostly the current value (the write can succeed), sometimes a stale or absurd one."""
    stale: dict[str, list[Any]] = {
        "set_severity": [1, 2, 3, 9],
        "set_phase": [p.value for p in Phase],
        "set_item_state": [s.value for s in ItemState],
        "set_title": ["API outage", "old title"],
        "set_summary": ["", "old summary"],
    }
    return st.sampled_from([CURRENT, CURRENT, CURRENT, *stale.get(frame_type, [None])])


def _value(draw: st.DrawFn, frame_type: str, name: str) -> Any:
    if name == "expected":
        return draw(_expected(frame_type))
    valid = _VALID_BY_TYPE.get((frame_type, name), _VALID.get(name))
    if valid is not None and draw(st.sampled_from(["fits"] * 9 + ["anything"])) == "fits":
        return draw(valid)
    return draw(_ANY.get(name, json_values))


@st.composite
def command_frames(draw: st.DrawFn) -> dict[str, Any]:
    """A frame of a real type; each field fits nine times in ten, else it is anything at all."""
    frame_type = draw(st.sampled_from(FRAME_TYPES))
    model = MODELS[frame_type]
    frame: dict[str, Any] = {"type": frame_type}
    for name, info in model.model_fields.items():
        if name in ("type", "id"):
            continue
        if not info.is_required() and draw(st.booleans()):
            continue  # leave optional fields out now and then
        frame[name] = _value(draw, frame_type, name)
    frame["id"] = draw(
        st.sampled_from(
            [FRESH_ID] * 50
            + [REPEATED_ID] * 10
            + ["has space", "x" * 65, "", 5, None, "ünï", "a" * 64, "\ud800"]
        )
    )
    mutation = draw(
        st.sampled_from(["none"] * 16 + ["drop a field", "add a field", "any id", "wrong type"])
    )
    if mutation == "wrong type" and len(frame) > 2:
        name = draw(st.sampled_from(sorted(k for k in frame if k not in ("type", "id"))))
        frame[name] = draw(wrong_json_type(frame[name]))
    elif mutation == "drop a field" and len(frame) > 2:
        frame.pop(draw(st.sampled_from(sorted(k for k in frame if k != "type"))))
    elif mutation == "add a field":
        frame[draw(st.sampled_from(["actor", "seq", "user_id", "admin"]))] = draw(json_values)
    elif mutation == "any id":
        frame["id"] = draw(json_values)
    return frame


def wrong_json_type(value: Any) -> st.SearchStrategy[Any]:
    """A value of another JSON type than `value`, which a strict server must refuse: `"2"` or
    `true` or `2.0` for an integer, a number for a string, a string for a list."""
    if isinstance(value, bool):
        return st.sampled_from([1, "true", None])
    if isinstance(value, int):
        return st.sampled_from([str(value), True, False, float(value), [value], {"n": value}])
    if isinstance(value, str | FromNow | Placeholder):
        return st.sampled_from([0, 1.5, True, ["x"], {"x": 1}]) | st.integers(-(2**70), 2**70)
    if isinstance(value, list):
        return st.sampled_from(["x", 1, True, {"x": 1}])
    return st.sampled_from(["x", 1, True, [], {}])


class Raw:
    """Bytes or text sent as they are, not as a JSON-encoded dict."""

    __slots__ = ("data",)

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        shown = self.data[:60]
        return f"Raw({shown!r}{'...' if len(self.data) > 60 else ''}, {len(self.data)})"


DEEP_ARRAY = Raw("[" * 100_000)
DEEP_OBJECT = Raw('{"a":' * 50_000)
BIG_VALID_JSON = Raw(json.dumps({"type": "add_entry", "id": "big", "text": "x" * 200_000}))

junk_frames = st.one_of(
    json_values.map(lambda v: Raw(json.dumps(v))),
    st.text(max_size=60).map(Raw),
    st.binary(max_size=60).map(Raw),
    st.builds(
        lambda t, extra: Raw(json.dumps({"type": t, "id": "junk", **extra})),
        st.sampled_from([*FRAME_TYPES, "drop_tables", "", "SUBSCRIBE", "welcome", "ack"]),
        st.dictionaries(st.text(max_size=10), json_values, max_size=3),
    ),
    st.sampled_from([DEEP_ARRAY, DEEP_OBJECT, BIG_VALID_JSON, Raw(""), Raw("null"), Raw("{}")]),
)

OVERSIZED = Raw("x" * (MAX_FRAME_BYTES + 1))

frames: st.SearchStrategy[dict[str, Any] | Raw] = st.sampled_from(
    ["command"] * 5 + ["junk"]
).flatmap(lambda kind: command_frames() if kind == "command" else junk_frames)
"""Five frames of a real type for every garbage one."""

senders = st.sampled_from([0, 0, 0, 1, 2, 3, 4])
"""Indexes into USERS; alice, the IC, may do the most, so she speaks the most."""
ops = st.lists(st.tuples(senders, frames), min_size=8, max_size=30)
"""(which person's connection, what it sends)."""

HUGE_VALUES = {HUGE_TEXT: "y" * (MAX_ENTRY_TEXT + 1), HUGE_TITLE: "T" * (MAX_TITLE + 1)}
