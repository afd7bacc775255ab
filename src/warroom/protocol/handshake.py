"""What a client's websocket handshake carries besides its bearer token."""

from __future__ import annotations

from typing import Final

CONSOLE_HEADER: Final = "X-Warroom-Console"
"""Names the console process making the handshake: a random id each process makes once, so the
server's sign-in throttle can tell apart the consoles that share an address (the browser
sessions of one `warroom web`, an office behind one NAT). It only separates failure counts and
grants nothing, so the server need not trust it."""
