"""Server settings the tests start real servers with."""

from __future__ import annotations

from warroom.server.app import ServerSettings
from warroom.server.limits import UNLIMITED

# Generous limits: the tests drive hundreds of writes per connection (and per user) on purpose.
TEST_SETTINGS = ServerSettings(port=0, rate=100_000, burst=100_000, limits=UNLIMITED)
