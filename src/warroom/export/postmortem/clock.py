"""Times and durations as the post-mortem prints them: UTC first, the reader's local time beside.

A stored time out of range (see `warroom.domain.instants`) prints as the text it was stored as,
marked, and any duration that ends on one is unknown: the export never fails on what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from warroom.domain.instants import as_stored, in_zone

UNKNOWN = "unknown"
"""A duration with an end out of range."""


def _plain(when: datetime) -> str:
    # isoformat, not %Y: strftime writes year 2 as "2" on some platforms.
    return when.replace(tzinfo=None).isoformat(" ", "seconds")


def duration_text(delta: timedelta | None) -> str:
    """A duration to the minute ("2 d 3 h 5 min"), in seconds when under a minute; None (an end
    out of range) is "unknown"."""
    if delta is None:
        return UNKNOWN
    seconds = int(delta.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    if seconds < 60:
        return f"{sign}{seconds} s"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{rest // 60} min"]
    return sign + " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Clock:
    """Formats times for one export."""

    tz: tzinfo | None
    """The reader's zone; None means the zone of the machine making the export."""

    def zone_name(self, when: datetime) -> str:
        local = in_zone(when, self.tz)
        return (local.strftime("%Z") if local else "") or "local"

    def utc(self, when: datetime) -> str:
        """ "2024-05-01 14:03:22 UTC"."""
        utc = in_zone(when, UTC)
        return f"{_plain(utc)} UTC" if utc else as_stored(when)

    def local_only(self, when: datetime) -> str:
        """The local wall time, with the date only when it differs from the UTC date."""
        utc, local = in_zone(when, UTC), in_zone(when, self.tz)
        if utc is None or local is None:
            return as_stored(when)
        zone = local.strftime("%Z")
        shown = f"{local:%H:%M:%S}" if local.date() == utc.date() else _plain(local)
        return f"{shown} {zone}".rstrip()

    def stamp(self, when: datetime) -> str:
        """UTC with the local time in brackets, unless local time is UTC."""
        local = in_zone(when, self.tz)
        if local is None or local.utcoffset() == timedelta(0):
            return self.utc(when)
        return f"{self.utc(when)} ({self.local_only(when)})"
