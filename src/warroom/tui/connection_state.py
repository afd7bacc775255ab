"""The connection indicator: what the header says about the link to the server (no textual)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from warroom.client.updates import ConnectionStatus

_WORDS = {
    ConnectionStatus.CONNECTING: ("connecting…", "-connecting"),
    ConnectionStatus.CONNECTED: ("connected", "-connected"),
    ConnectionStatus.RECONNECTING: ("cannot reach", "-reconnecting"),
    ConnectionStatus.CLOSED: ("offline", "-offline"),
}


def short_address(address: str) -> str:
    """`host:port` of a URL, the file name of a `unix:` socket: which node, in a narrow corner."""
    if address.startswith("unix:"):
        return address.rsplit("/", 1)[-1]
    return urlsplit(address).netloc or address


@dataclass(frozen=True)
class ConnectionInfo:
    """The client's link state, the server it talks to, and how many writes wait in the outbox.

    Reconnecting is said plainly as "cannot reach" the server: the console never talks to any
    other server than those it was given, so the reader must know this one is not answering.
    Given several (the nodes of a cluster), it also says which one it is on while connected.
    """

    status: ConnectionStatus = ConnectionStatus.CONNECTING
    unsent: int = 0
    target: str = ""
    """The address of the server in use, as the user gave it (`ws://…` or `unix:…`)."""
    servers: int = 1
    """How many servers the client may fail over between."""

    @property
    def text(self) -> str:
        """E.g. `● connected` or `○ cannot reach ws://10.0.0.5:8765 · retrying · 3 unsent`."""
        words, _ = _WORDS[self.status]
        dot = "●" if self.status is ConnectionStatus.CONNECTED else "○"
        if self.status is ConnectionStatus.RECONNECTING:
            words = f"{words} {self.target or 'the server'} · retrying"
        elif self.status is ConnectionStatus.CONNECTED and self.servers > 1:
            words = f"{words} to {self.target}"
        unsent = f" · {self.unsent} unsent" if self.unsent else ""
        return f"{dot} {words}{unsent}"

    @property
    def stacked(self) -> str:
        """The words on two short lines, for the header's narrow corner (no address)."""
        words, _ = _WORDS[self.status]
        dot = "●" if self.status is ConnectionStatus.CONNECTED else "○"
        unsent = f"{self.unsent} unsent" if self.unsent else ""
        if self.status is ConnectionStatus.RECONNECTING:
            # Each line a whole phrase ("cannot reach / 3 unsent" read as one odd sentence), and
            # the retrying the wide form says: the console is not giving up.
            return f"{dot} {words} server\n{' · '.join(filter(None, ('retrying', unsent)))}"
        if unsent:
            return f"{dot} {words}\n{unsent}"
        if self.status is ConnectionStatus.CONNECTED and self.servers > 1:
            return f"{dot} {words}\n{short_address(self.target)}"
        return f"{dot} {words}"

    @property
    def css_class(self) -> str:
        """The class the header uses to colour the indicator."""
        return _WORDS[self.status][1]
