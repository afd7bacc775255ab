"""Timeline entries: what the Scribe records and what the server writes for every change."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from warroom.domain.instants import order_key


class EntryKind(StrEnum):
    """What a timeline entry records."""

    NOTE = "note"
    DECISION = "decision"
    ACTION = "action"
    STATUS = "status"
    """An internal status update from the CL or IC."""
    EXTERNAL = "external"
    """A public update, written only through the IC's approval."""
    TODO = "todo"
    ALERT = "alert"
    METRICS = "metrics"
    SYSTEM = "system"
    """Written by the server for every change of severity, phase, role or checklist item."""


USER_KINDS = frozenset(
    {EntryKind.NOTE, EntryKind.DECISION, EntryKind.ACTION, EntryKind.STATUS, EntryKind.TODO}
)
"""Kinds a person may post directly; the others come from workflows on the server."""


RECORD_KINDS = frozenset({EntryKind.SYSTEM, EntryKind.EXTERNAL, EntryKind.ALERT, EntryKind.METRICS})
"""Entries that record what happened outside the room (published text, alerts, numbers): they
are never amended or struck."""


class EntryRevision(BaseModel):
    """An earlier wording of an entry, kept when it is amended or struck."""

    text: str
    changed_by: str
    changed_at: datetime


class TimelineEntry(BaseModel):
    """One line of the incident's record; its id is the seq of the event that made it."""

    id: int
    kind: EntryKind
    text: str
    author: str
    at: datetime
    """Server time when the entry was recorded."""
    occurred_at: datetime | None = None
    """When it happened, if the Scribe back-dated it."""
    typed_at: datetime | None = None
    """When it was typed, by the writer's clock; earlier than `at` when it waited in an outbox."""
    next_update_at: datetime | None = None
    """On an internal status update: when it promised the next one."""
    correlation_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    struck: bool = False
    struck_reason: str | None = None
    revisions: list[EntryRevision] = Field(default_factory=list)
    """Earlier texts, oldest first; never deleted."""

    @classmethod
    def trusted(cls, **values: Any) -> TimelineEntry:
        """An entry from values that were already validated, without validating them again:
        the projection takes them from validated events, and validating every entry was most of
        the time a client spent applying thousands of events (`model_construct` is slower still:
        it inspects the default factories' signatures for every instance). Fields left out take
        their defaults."""
        return cls.from_trusted(values)

    @classmethod
    def from_trusted(cls, values: dict[str, Any]) -> TimelineEntry:
        """`trusted` for a dict of values made for it, which the hot path builds as a literal:
        packing keyword arguments was a quarter of applying an entry added."""
        entry = _new_object(cls)
        # In field order, which is the serialised order; fresh lists, never the template's.
        fields = {**_ENTRY_TEMPLATE, "tags": [], "mentions": [], "revisions": [], **values}
        _set_attribute(entry, "__dict__", fields)
        _set_attribute(entry, "__pydantic_fields_set__", set(values))
        _set_attribute(entry, "__pydantic_extra__", None)
        _set_attribute(entry, "__pydantic_private__", None)
        return entry

    @property
    def when(self) -> datetime:
        """The time the entry is about: the back-dated time if given, else when it was typed,
        else when the server recorded it. A typed time later than the server's receipt can only
        be a console's clock running fast, so the receipt bounds it."""
        return entry_when(self.at, self.occurred_at, self.typed_at)


def entry_when(at: datetime, occurred_at: datetime | None, typed_at: datetime | None) -> datetime:
    """`TimelineEntry.when` of an entry with these times (also read from rows not yet built)."""
    if occurred_at is not None:
        return occurred_at
    if typed_at is not None:
        return min(typed_at, at, key=order_key)
    return at


_ENTRY_TEMPLATE: dict[str, Any] = {
    name: None if field.is_required() or field.default_factory else field.default
    for name, field in TimelineEntry.model_fields.items()
}
"""Every field of `TimelineEntry` in order with its plain default (`trusted` fills the rest)."""

_new_object = object.__new__
_set_attribute = object.__setattr__

_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{0,31})")


def find_mentions(text: str) -> list[str]:
    """Names mentioned as `@name`, in order, without repeats."""
    if "@" not in text:
        return []  # most entries: no regular expression to run for every event applied
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1).rstrip("."), None)
    return list(seen)
