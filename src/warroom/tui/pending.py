"""Entries and status updates this console posted that the server has not yet committed (shown
greyed in the timeline)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from warroom.domain.commands import AddEntry, PostStatusUpdate
from warroom.domain.communications import compose_status_text
from warroom.domain.timeline import EntryKind

PendingCommand = AddEntry | PostStatusUpdate
"""The writes that become a timeline entry of their author's."""


@dataclass(frozen=True)
class PendingEntry:
    """An entry or a status update on its way: in flight, or waiting in the outbox while
    offline; shown as the entry the server will make of it."""

    command: PendingCommand
    submitted_at: datetime
    author: str

    @property
    def command_id(self) -> str:
        return self.command.id

    @property
    def kind(self) -> EntryKind:
        return self.command.kind if isinstance(self.command, AddEntry) else EntryKind.STATUS

    @property
    def text(self) -> str:
        """The entry's text, as the domain composes a status update's."""
        command = self.command
        if isinstance(command, AddEntry):
            return command.text
        return compose_status_text(
            command.status, command.impact, command.actions, command.next_update_at
        )

    @property
    def occurred_at(self) -> datetime | None:
        return self.command.occurred_at if isinstance(self.command, AddEntry) else None

    @property
    def typed_at(self) -> datetime | None:
        return self.command.typed_at

    @property
    def correlation_id(self) -> str | None:
        return self.command.correlation_id if isinstance(self.command, AddEntry) else None


class PendingEntries:
    """Pending entries by command id, oldest first; settled when the event or a refusal lands."""

    def __init__(self) -> None:
        self._entries: dict[str, PendingEntry] = {}

    def add(self, entry: PendingEntry) -> None:
        self._entries[entry.command_id] = entry

    def settle(self, command_ids: Iterable[str | None]) -> bool:
        """Forget these commands (committed or refused); True if any was pending."""
        if not self._entries:
            return False  # most updates: not even reading the ids (a catch-up's events are
            # built only when read, see `protocol.compact`)
        settled = False
        for command_id in command_ids:
            if command_id is not None and self._entries.pop(command_id, None) is not None:
                settled = True
        return settled

    def for_incident(self, incident_id: int) -> tuple[PendingEntry, ...]:
        return tuple(e for e in self._entries.values() if e.command.incident_id == incident_id)

    def __len__(self) -> int:
        return len(self._entries)
