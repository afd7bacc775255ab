"""The packed snapshot: a columnar snapshot whose five columns every entry has values in travel
as binary arrays in a binary websocket message, taken in with a copy per column and a few checks
over whole columns instead of a Python object per value.

A client that asked for it (`subscribe.packed_snapshot`, offered as `Feature.PACKED_SNAPSHOT`)
gets, instead of a `columnar_snapshot` frame, one binary message (docs/protocol.md, "Packed
snapshot"): `MAGIC`, the length of a JSON head as a little-endian 32-bit number, the head (the
`columnar_snapshot` frame with `type` `packed_snapshot` and its timeline's five per-entry columns
replaced by their `count`), then the columns: `id` and `at` as little-endian signed 64-bit
numbers, `kind` and `author` one byte each (numbers into `kinds` and `authors`), each text's
length in characters as a little-endian unsigned 32-bit number, and every text, one after the
other, as UTF-8 to the end of the message.

Validating a columnar snapshot's columns makes a Python object per id, time and text: 0.6-0.9
ms for the bench's 2,000 entries, most of what a console's full sync costs it (sync20). Here
the ids and times stay arrays (an `int` is made when one is read), the codes stay bytes, the
texts one string cut when an entry is read (`JoinedTexts`), and the checks a hostile server must
not get past (codes within their lists, times within the calendar, lengths that add up, UTF-8)
run over each column at once (sync21).
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from typing import Any, Final, Literal

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field

from warroom.domain.incident import IncidentState
from warroom.domain.timeline_columns import (
    EARLIEST_MICROS,
    LATEST_MICROS,
    JoinedTexts,
    TimelineColumns,
)
from warroom.domain.timeline_list import Timeline
from warroom.domain.trusted import trusted
from warroom.protocol.columnar import NamesAndOptionalColumns, columnar_state

MAGIC: Final = b"\x00wr1"
"""How a packed snapshot begins: a NUL first, which no JSON text (every other frame) begins
with, then the format's version."""
_HEAD_LENGTH: Final = struct.Struct("<I")
_HEAD_START: Final = len(MAGIC) + _HEAD_LENGTH.size
MAX_NAMES: Final = 256
"""The most kinds or authors a packed snapshot names (a code is one byte); a timeline with more
authors is sent columnar."""
_BYTES_PER_ENTRY: Final = 8 + 8 + 1 + 1 + 4
"""id, at, kind, author, text length: the fixed part of the columns."""
_CODES: Final = bytes(range(MAX_NAMES))
_NEAR_TIMES: Final = b"\x00\x01\x02"
"""The top bytes of a time from 1970 to about 8800 (0 to 3 * 2**56 microseconds), every one
within the calendar: a column holding only these needs no closer look."""
_BIG_ENDIAN: Final = sys.byteorder == "big"

if array("q").itemsize != 8 or array("I").itemsize != 4:  # pragma: no cover (every CPython)
    raise AssertionError("the packed snapshot's arrays need 8- and 4-byte items")


class PackedTimelineHead(NamesAndOptionalColumns):
    """A packed snapshot's timeline in its JSON head: the entries' count, the name lists and
    the optional columns (as a columnar snapshot carries them)."""

    count: int = Field(ge=0)


class PackedState(IncidentState):
    """An `IncidentState` as a packed snapshot's head carries it: the timeline's head only."""

    timeline: PackedTimelineHead  # type: ignore[assignment]
    # (The columns follow the head; `read_packed_snapshot` makes the state's `Timeline`.)


class PackedSnapshotHead(BaseModel):
    """A packed snapshot's JSON head: a `columnar_snapshot` frame but for its timeline."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["packed_snapshot"]
    id: str | None = None
    incident_id: int
    seq: int
    state: PackedState
    head: int | None = None


@dataclass(frozen=True, slots=True)
class PackedSnapshot:
    """A packed snapshot taken in: the frame's fields and the state it carries, its timeline
    reading each entry from the columns when first read."""

    id: str | None
    incident_id: int
    seq: int
    head: int | None
    state: IncidentState


def read_packed_snapshot(raw: bytes) -> PackedSnapshot:
    """The packed snapshot in a binary message, checked whole before anything is kept.

    Raises:
        ValueError: it is no packed snapshot, or one that does not hold together (a head that
            does not validate, columns shorter than `count`, a code past its list, a time out
            of the calendar, text lengths that do not add up to the text, text that is not
            UTF-8).
    """
    if raw[: len(MAGIC)] != MAGIC or len(raw) < _HEAD_START:
        raise ValueError("not a packed snapshot")
    (head_length,) = _HEAD_LENGTH.unpack_from(raw, len(MAGIC))
    body_start = _HEAD_START + head_length
    if body_start > len(raw):
        raise ValueError("the packed snapshot's head runs past its end")
    head = PackedSnapshotHead.model_validate_json(raw[_HEAD_START:body_start])
    timeline = head.state.timeline
    columns = _columns(memoryview(raw)[body_start:], timeline)
    values = dict(head.state.__dict__)
    values["timeline"] = Timeline.of_columns(columns)
    state = trusted(IncidentState, values, set(head.state.model_fields_set))
    return PackedSnapshot(head.id, head.incident_id, head.seq, head.head, state)


def _columns(body: memoryview, timeline: PackedTimelineHead) -> TimelineColumns:
    count = timeline.count
    texts_start = _BYTES_PER_ENTRY * count
    if len(body) < texts_start:
        raise ValueError("the packed snapshot's columns are shorter than its count")
    if not timeline.optional_columns_hold(count):
        raise ValueError("every column holds one value per entry")
    ids, at, lengths = array("q"), array("q"), array("I")
    ids.frombytes(body[: 8 * count])
    at.frombytes(body[8 * count : 16 * count])
    kind_codes = body[16 * count : 17 * count].tobytes()
    author_codes = body[17 * count : 18 * count].tobytes()
    lengths.frombytes(body[18 * count : texts_start])
    if _BIG_ENDIAN:  # pragma: no cover (the wire is little-endian)
        for column in (ids, at, lengths):
            column.byteswap()
    if kind_codes.translate(None, _CODES[: len(timeline.kinds)]):
        raise ValueError("a kind's number is not in `kinds`")
    if author_codes.translate(None, _CODES[: len(timeline.authors)]):
        raise ValueError("an author's number is not in `authors`")
    # Bytes 7, 15, ...: each time's most significant byte (little-endian).
    top_bytes = body[8 * count + 7 : 16 * count : 8].tobytes()
    if top_bytes.translate(None, _NEAR_TIMES) and (
        min(at) < EARLIEST_MICROS or max(at) > LATEST_MICROS
    ):
        raise ValueError("a time is out of the calendar")
    text = str(body[texts_start:], "utf-8")  # UnicodeDecodeError is a ValueError
    if sum(lengths) != len(text):
        raise ValueError("the texts' lengths do not add up to the text")
    return TimelineColumns(
        ids=ids,
        kind_codes=kind_codes,
        kinds=timeline.kinds,
        texts=JoinedTexts(text, lengths),
        author_codes=author_codes,
        authors=timeline.authors,
        at=at,
        **timeline.optional_columns(),
    )


def packed_state(state_json: str) -> tuple[bytes, bytes]:
    """A serialised `IncidentState` as a packed snapshot's state head (JSON) and columns, for
    `packed_frame`.

    Raises:
        ValueError: as `columnar.columnar_state`, or the timeline names more than `MAX_NAMES`
            kinds or authors, or holds an id an array cannot carry: the snapshot is sent
            another way.
    """
    state = columnar_state(state_json)
    columns: dict[str, Any] = state["timeline"]
    if len(columns["kinds"]) > MAX_NAMES or len(columns["authors"]) > MAX_NAMES:
        raise ValueError("more kinds or authors than a byte numbers")
    texts: list[str] = columns.pop("text")
    try:
        ids, at = array("q", columns.pop("id")), array("q", columns.pop("at"))
        lengths = array("I", map(len, texts))
        text = "".join(texts).encode()  # a lone surrogate: UnicodeEncodeError, a ValueError
    except OverflowError as exc:
        raise ValueError(f"a value an array cannot carry: {exc}") from exc
    if _BIG_ENDIAN:  # pragma: no cover (the wire is little-endian)
        for column in (ids, at, lengths):
            column.byteswap()
    kind_codes, author_codes = bytes(columns.pop("kind")), bytes(columns.pop("author"))
    columns["count"] = len(texts)
    body = b"".join(
        (ids.tobytes(), at.tobytes(), kind_codes, author_codes, lengths.tobytes(), text)
    )
    return pydantic_core.to_json(state), body


def packed_frame(
    frame_id: str | None, incident_id: int, seq: int, head: int, state: tuple[bytes, bytes]
) -> bytes:
    """The binary message of a packed snapshot of `state` (`packed_state`'s)."""
    state_head, body = state
    frame_head = pydantic_core.to_json(
        {"type": "packed_snapshot", "id": frame_id, "incident_id": incident_id, "seq": seq}
    )
    json_head = b"".join((frame_head[:-1], b',"head":%d,"state":' % head, state_head, b"}"))
    return b"".join((MAGIC, _HEAD_LENGTH.pack(len(json_head)), json_head, body))
