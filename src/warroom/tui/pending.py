"""Entries this console posted that the server has not yet committed (shown greyed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from warroom.domain.commands import AddEntry


@dataclass(frozen=True)
class PendingEntry:
    """An `AddEntry` on its way: in flight, or waiting in the outbox while offline."""

    command: AddEntry
    submitted_at: datetime
    author: str

    @property
    def command_id(self) -> str:
        return self.command.id


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
