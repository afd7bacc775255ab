"""The connection indicator: what the header says about the link to the server (no textual)."""

from __future__ import annotations

from dataclasses import dataclass

from warroom.client.updates import ConnectionStatus

_WORDS = {
    ConnectionStatus.CONNECTING: ("connecting…", "-connecting"),
    ConnectionStatus.CONNECTED: ("connected", "-connected"),
    ConnectionStatus.RECONNECTING: ("cannot reach", "-reconnecting"),
    ConnectionStatus.CLOSED: ("offline", "-offline"),
}


@dataclass(frozen=True)
class ConnectionInfo:
    """The client's link state, the server it talks to, and how many writes wait in the outbox.

    Reconnecting is said plainly as "cannot reach" the server: the console never talks to any
    other server than the one it was given, so the reader must know this one is not answering.
    """

    status: ConnectionStatus = ConnectionStatus.CONNECTING
    unsent: int = 0
    target: str = ""
    """The server's address as the user gave it (`ws://…` or `unix:…`)."""

    @property
    def text(self) -> str:
        """E.g. `● connected` or `○ cannot reach ws://10.0.0.5:8765 · retrying · 3 unsent`."""
        words, _ = _WORDS[self.status]
        dot = "●" if self.status is ConnectionStatus.CONNECTED else "○"
        if self.status is ConnectionStatus.RECONNECTING:
            words = f"{words} {self.target or 'the server'} · retrying"
        unsent = f" · {self.unsent} unsent" if self.unsent else ""
        return f"{dot} {words}{unsent}"

    @property
    def stacked(self) -> str:
        """The words on two short lines, for the header's narrow corner (no address)."""
        words, _ = _WORDS[self.status]
        dot = "●" if self.status is ConnectionStatus.CONNECTED else "○"
        if self.unsent:
            return f"{dot} {words}\n{self.unsent} unsent"
        if self.status is ConnectionStatus.RECONNECTING:
            return f"{dot} {words}\nthe server"
        return f"{dot} {words}"

    @property
    def css_class(self) -> str:
        """The class the header uses to colour the indicator."""
        return _WORDS[self.status][1]
