"""Server settings the tests start real servers with."""

from __future__ import annotations

from warroom.server.app import ServerSettings

# Generous limits: the tests drive hundreds of writes per connection on purpose.
TEST_SETTINGS = ServerSettings(port=0, rate=100_000, burst=100_000)
