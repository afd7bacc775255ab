"""Times and durations as the post-mortem prints them: UTC first, the reader's local time beside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo


def as_utc(when: datetime) -> datetime:
    """`when` in UTC; a naive time is taken to be UTC already, as the server records it."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def duration_text(delta: timedelta) -> str:
    """A duration to the minute ("2 d 3 h 5 min"), in seconds when under a minute."""
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

    def local(self, when: datetime) -> datetime:
        return as_utc(when).astimezone(self.tz)

    def zone_name(self, when: datetime) -> str:
        return self.local(when).strftime("%Z") or "local"

    def utc(self, when: datetime) -> str:
        """ "2024-05-01 14:03:22 UTC"."""
        return f"{as_utc(when):%Y-%m-%d %H:%M:%S} UTC"

    def local_only(self, when: datetime) -> str:
        """The local wall time, with the date only when it differs from the UTC date."""
        utc, local = as_utc(when), self.local(when)
        fmt = "%H:%M:%S %Z" if local.date() == utc.date() else "%Y-%m-%d %H:%M:%S %Z"
        return local.strftime(fmt)

    def stamp(self, when: datetime) -> str:
        """UTC with the local time in brackets, unless local time is UTC."""
        if self.local(when).utcoffset() == timedelta(0):
            return self.utc(when)
        return f"{self.utc(when)} ({self.local_only(when)})"
