"""Presence: who follows each incident, sent to its followers gathered, at a pace that keeps the
fan-out of a large room bounded while consoles join or leave in numbers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection

from warroom.protocol.frames import Presence, PresenceUser
from warroom.server.connection import Connection, wire_frame

PRESENCE_EVERY = 0.1
"""Seconds presence changes are gathered at least before they are sent. A join took its own
presence frame to every follower when changes were gathered only within one loop iteration:
joins arrive over many iterations (each through a sequencer turn), so 200 consoles joining made
about 250 frames to each of up to 200 followers."""
PRESENCE_FRAMES_PER_SECOND = 500.0
"""Presence frames one incident's changes may cost per second, roughly: a flush goes to every
follower, so a room of more than `PRESENCE_EVERY * PRESENCE_FRAMES_PER_SECOND` (50) consoles
gathers longer. At a tenth of a second per flush, 200 consoles joining one incident in a second
cost about 1,200 presence frames, three in four of everything the server sent for their joins."""
PRESENCE_LONGEST = 1.0
"""Seconds presence changes are gathered at most, however large the room: who is in the room is
never older than this on a console."""


def gathering_time(followers: int) -> float:
    """Seconds to gather an incident's presence changes before they go to its `followers`."""
    return min(PRESENCE_LONGEST, max(PRESENCE_EVERY, followers / PRESENCE_FRAMES_PER_SECOND))


Schedule = Callable[[float, Callable[[int], None], int], object]
"""Calls a function with an incident id after a delay in seconds (`loop.call_later`)."""


def _call_later(delay: float, callback: Callable[[int], None], incident_id: int) -> object:
    return asyncio.get_running_loop().call_later(delay, callback, incident_id)


class PresenceSender:
    """Sends an incident's presence (its followers' users and how many consoles each has open)
    to its followers, once per gathering time whatever the number of changes in it."""

    def __init__(
        self,
        followers: Callable[[int], Collection[Connection] | None],
        schedule: Schedule = _call_later,
    ) -> None:
        """`followers` names the consoles following an incident, None once it is gone."""
        self._followers = followers
        self._schedule = schedule
        self._due: set[int] = set()
        """Incidents whose changes are being gathered."""

    def changed(self, incident_id: int) -> None:
        """A console started or stopped following the incident."""
        if incident_id in self._due:
            return
        followers = self._followers(incident_id)
        self._due.add(incident_id)
        delay = gathering_time(len(followers) if followers is not None else 0)
        self._schedule(delay, self._send, incident_id)

    def _send(self, incident_id: int) -> None:
        self._due.discard(incident_id)
        followers = self._followers(incident_id)
        if not followers:
            return
        counts: dict[str, int] = {}
        for conn in followers:
            counts[conn.user] = counts.get(conn.user, 0) + 1
        message = Presence(
            incident_id=incident_id,
            users=[PresenceUser(user=u, connections=n) for u, n in sorted(counts.items())],
        ).model_dump_json()
        # Encoded once for every follower (user names are ASCII, so this is mostly free).
        wire = wire_frame(message)
        for conn in list(followers):
            conn.send(wire)
