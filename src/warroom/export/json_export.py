"""The JSON export: the full event log plus the state it projects to, for tools and archives."""

from __future__ import annotations

import json

from warroom.domain.events import Event
from warroom.domain.projection import replay

EXPORT_FORMAT_VERSION = 1


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
