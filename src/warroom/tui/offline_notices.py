"""What the console says about writes while the server is not answering: that a change made
then is kept, and, once the server is back, that what was kept has reached it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from warroom.client.updates import ConnectionStatus
from warroom.domain.commands import AddEntry, Command
from warroom.tui.words import count


@dataclass(frozen=True)
class Notice:
    """One notification: its title and words."""

    title: str
    message: str
    severity: Literal["information", "warning"] = "information"


KEPT = Notice(
    "Kept, not sent yet",
    "The server is not answering. It goes out by itself when the server is back; nothing to "
    "type again.",
    severity="warning",
)
"""For a change made offline in a dialog (an update, a severity, a role...): the dialog closes
as if it were done, and only the header's count said otherwise. Four lines of an 80-column
toast before; three now."""


class OfflineNotices:
    """Follows the connection to say when a change is kept and when the kept ones got through."""

    def __init__(self) -> None:
        self._kept = 0
        """The most changes seen waiting while not connected, until they have all been sent."""

    def sent(self, command: Command, status: ConnectionStatus) -> Notice | None:
        """The notice for `command` handed to the client while the link is in `status`.

        Timeline entries need none: they show in the timeline as "(not sent yet)"."""
        if status is ConnectionStatus.CONNECTED or isinstance(command, AddEntry):
            return None
        return KEPT

    def connection(self, status: ConnectionStatus, unsent: int) -> Notice | None:
        """The notice, if any, for the link now in `status` with `unsent` writes waiting."""
        if status is not ConnectionStatus.CONNECTED:
            self._kept = max(self._kept, unsent)
            return None
        if unsent or not self._kept:
            return None
        kept, self._kept = self._kept, 0
        # "The 1 change kept..." read as a count where there was only one thing to tell.
        what = "The change" if kept == 1 else f"All {count(kept, 'change')}"
        return Notice(
            "Back online",
            f"{what} kept while the server was not answering "
            f"{'has' if kept == 1 else 'have'} reached it.",
        )
