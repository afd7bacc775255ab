"""What every post-mortem section builder reads, and the small helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from warroom.domain.events import Event
from warroom.domain.incident import IncidentState
from warroom.domain.instants import order_key
from warroom.domain.phase import Phase
from warroom.domain.timeline import EntryKind, TimelineEntry
from warroom.export.postmortem.clock import Clock
from warroom.export.postmortem.document import Block, Paragraph, em, inline

TO_BE_WRITTEN = "To be written in the review."
"""The prompt left where the war room recorded nothing for a section."""


@dataclass(frozen=True)
class Context:
    """One incident being exported."""

    state: IncidentState
    events: list[Event]
    """The incident's log; read where the state keeps only the latest value (checklist)."""
    clock: Clock
    generated_at: datetime

    @cached_property
    def timeline(self) -> list[TimelineEntry]:
        """Every entry in the order things happened; sorted once, read by many sections."""
        return sorted(self.state.timeline, key=lambda e: (order_key(e.when), e.id))

    def entries(self, kind: EntryKind | None = None, tag: str | None = None) -> list[TimelineEntry]:
        """Entries not struck, of one kind and/or one tag, in the order things happened."""
        return [
            e
            for e in self.timeline
            if not e.struck
            and (kind is None or e.kind is kind)
            and (tag is None or tag in (t.lower() for t in e.tags))
        ]

    def of_kind(self, kind: EntryKind) -> list[TimelineEntry]:
        """Every entry of `kind`, struck ones included, in the order things happened."""
        return [e for e in self.timeline if e.kind is kind]


Builder = Callable[[Context], list[Block]]
"""Fills one section."""


def phase_label(phase: Phase) -> str:
    """The phase as people write it: "post-mortem done" for `postmortem_done`."""
    return phase.value.replace("_", " ").replace("postmortem", "post-mortem")


def prompt(text: str = TO_BE_WRITTEN) -> Paragraph:
    """An italic prompt standing where content is missing."""
    return Paragraph(inline(em(text)))
