"""The JSON export: the full event log plus the state it projects to, for tools, archives and
replaying an incident away from its war room (`warroom replay --file`)."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import from_json

from warroom.domain.events import Event
from warroom.domain.instants import as_stored, in_range
from warroom.domain.limits import MAX_FRAME_BYTES, UserName
from warroom.domain.projection import replay

EXPORT_FORMAT_VERSION = 1

MAX_EXPORT_BYTES = 128 * 1024 * 1024
"""The largest export `warroom replay --file` reads: room for a 100,000-event incident at over
1 KB an event (its exports run 400 to 900 bytes an event). What is read costs about 13 times
its size at the peak, measured on a 12 MB export of 30,000 events (152 MB, 5 s to the built
replay): the events' models themselves, so parsing straight into them instead of through
`json.loads` saved under 10 %. At this cap a hostile or mistaken file costs at most about 1.7 GB
and about a minute before it is shown; at the former 256 MB, 3.3 GB and two."""


def export_json(events: list[Event]) -> str:
    """A JSON document with `state` (the projection) and every event in order."""
    state = replay(events)
    document = {
        "format": "warroom-incident",
        "version": EXPORT_FORMAT_VERSION,
        "state": state.model_dump(mode="json"),
        "events": [e.model_dump(mode="json") for e in events],
    }
    # ASCII only: every control, C1 and bidi character becomes a \uXXXX escape, so printing the
    # export to a terminal cannot move its cursor or reorder its text.
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


class ExportFileError(Exception):
    """A file that is not a warroom JSON export, or one whose events do not make an incident."""


def read_export(text: str) -> list[Event]:
    """The event log of a JSON export made by `export_json`, checked event by event (whether
    they fold into an incident is for the projection to say: `ProjectionError`).

    Raises:
        ExportFileError: the text is not such an export; the message says what is wrong.
    """
    try:
        # Not `json.loads`: it makes a lone surrogate escape (`"\\ud800"`) into a string no
        # terminal can be written, and the server's own parser refuses one.
        document = from_json(text, allow_inf_nan=False)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            # An export nests a few levels; the parser stops at 200.
            raise ExportFileError("not an export: its JSON is nested too deeply") from None
        raise ExportFileError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != "warroom-incident":
        raise ExportFileError('not a warroom incident export (no "format": "warroom-incident")')
    version = document.get("version")
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not 1 <= version <= EXPORT_FORMAT_VERSION
    ):
        raise ExportFileError(
            f"export format version {_shown(version)} is not one this warroom reads "
            f"(up to {EXPORT_FORMAT_VERSION})"
        )
    raw = document.get("events")
    if not isinstance(raw, list) or not raw:
        raise ExportFileError("the export holds no events")
    known_actors: set[str] = set()
    for number, item in enumerate(raw, start=1):
        _check_written_by_a_server(number, item, known_actors)
    try:
        # Strictly, as the server reads frames: `"seq": true` or `"seq": "1"` is not event 1.
        # Read from the text again, since strict reading of parsed JSON would refuse every time
        # (a string is not a datetime); in Rust, it costs less than validating the parsed copy.
        events = _ExportedEvents.model_validate_json(text, strict=True).events
    except ValidationError as exc:
        first = exc.errors()[0]
        # Field names come from the file: shown as inert, short text like any value of it.
        where = ".".join(
            str(part) if isinstance(part, int) else _shown(part, quoted=False)
            for part in first["loc"][2:]  # past ("events", n)
        )
        if first["type"] == "union_tag_invalid":
            why = f"unknown event type {_shown(first.get('ctx', {}).get('tag'))}"
        else:
            # Pydantic quotes some inputs in its messages; they too are the file's text.
            why = _shown(first["msg"], quoted=False, limit=_SHOWN_MESSAGE_CHARS)
        raise ExportFileError(f"an event is not valid: {where}: {why}") from None
    if len({event.incident_id for event in events}) > 1:
        raise ExportFileError("the events belong to more than one incident")
    for event in events:
        # The server stamps events with its clock; a time the calendar cannot step a minute
        # away from (or convert to every zone) was not written by one, and the replay's minute
        # jumps would overflow on it.
        if not in_range(event.at):
            raise ExportFileError(
                f"event {event.seq} has a time out of range: {as_stored(event.at)}"
            )
    return events


_USER_NAME: TypeAdapter[str] = TypeAdapter(UserName)


class _ExportedEvents(BaseModel):
    """The part of an export that is read back: its events (the rest was checked already)."""

    model_config = ConfigDict(extra="ignore")

    events: list[Event]


def _check_written_by_a_server(number: int, item: object, known_actors: set[str]) -> None:
    """Refuse what no server writes into an event and the console would pay to draw: an actor
    that is not a login name (a server's events are made by users or by `warroom`), or a text
    longer than the largest frame a server reads (each event's text came in one).

    Raises:
        ExportFileError: saying which event (its place in the file) and why.
    """
    if not isinstance(item, dict):
        return  # the model says what is wrong with it
    actor = item.get("actor")
    if isinstance(actor, str) and actor not in known_actors:
        try:
            _USER_NAME.validate_python(actor)
        except ValidationError:
            raise ExportFileError(
                f"event {number}: its actor is not a user name: {_shown(actor)}"
            ) from None
        known_actors.add(actor)  # an incident has a few actors and many events
    if _longest_text(item.get("body")) > MAX_FRAME_BYTES:
        raise ExportFileError(
            f"event {number} holds a text longer than {MAX_FRAME_BYTES:,} characters, "
            "more than a server takes in one frame"
        )


def _longest_text(value: object) -> int:
    """The length of the longest string anywhere in `value` (JSON as parsed), keys included."""
    longest = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            longest = max(longest, len(item))
        elif isinstance(item, dict):
            # Bodies are mostly flat: their keys are the model's field names, which the model
            # refuses when they are not; only nested values are walked.
            for key, inner in item.items():
                if isinstance(inner, str):
                    longest = max(longest, len(inner), len(key))
                else:
                    longest = max(longest, len(key))
                    pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)
    return longest


_SHOWN_CHARS = 40
"""A value from the file quoted in an error is cut to this many characters."""
_SHOWN_MESSAGE_CHARS = 200
"""A validation message (which may quote the file) is cut to this many characters."""


def _shown(value: object, *, quoted: bool = True, limit: int = _SHOWN_CHARS) -> str:
    # ascii() escapes every control, escape and bidi character: a hostile export cannot drive
    # the terminal that prints why it was refused, nor fill it with one huge value.
    text = ascii(value) if quoted else ascii(str(value))[1:-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"
