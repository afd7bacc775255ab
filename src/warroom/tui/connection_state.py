"""The connection indicator: what the header says about the link to the server (no textual)."""

from __future__ import annotations

from dataclasses import dataclass

from warroom.client.updates import ConnectionStatus

_WORDS = {
    ConnectionStatus.CONNECTING: ("connecting…", "-connecting"),
    ConnectionStatus.CONNECTED: ("connected", "-connected"),
    ConnectionStatus.RECONNECTING: ("reconnecting…", "-reconnecting"),
    ConnectionStatus.CLOSED: ("offline", "-offline"),
}


@dataclass(frozen=True)
class ConnectionInfo:
    """The client's link state and how many writes wait in the outbox."""

    status: ConnectionStatus = ConnectionStatus.CONNECTING
    unsent: int = 0

    @property
    def text(self) -> str:
        """E.g. `● connected` or `○ reconnecting… · 3 unsent`."""
        words, _ = _WORDS[self.status]
        dot = "●" if self.status is ConnectionStatus.CONNECTED else "○"
        unsent = f" · {self.unsent} unsent" if self.unsent else ""
        return f"{dot} {words}{unsent}"

    @property
    def stacked(self) -> str:
        """The same words on two lines, for the header's narrow corner."""
        return self.text.replace(" · ", "\n", 1)

    @property
    def css_class(self) -> str:
        """The class the header uses to colour the indicator."""
        return _WORDS[self.status][1]
