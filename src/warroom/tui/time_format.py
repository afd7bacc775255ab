"""Formats durations and clock times for the panes (pure; no textual).

Times come from the server's log, and a client may have stored one that has no value in the
display zone (`0001-01-01T00:00:00+14:00`): such a time is shown as it was stored, marked, and a
pane never crashes on it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from warroom.domain.instants import as_stored, in_zone


def duration(span: timedelta) -> str:
    """`1:02:03` for an hour or more, `12:34` below it; negative spans read as their size."""
    seconds = abs(int(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def clock_time(moment: datetime, zone: tzinfo | None, *, seconds: bool = True) -> str:
    """`14:02:05` in the display zone (the zone of the app's clock)."""
    local = in_zone(moment, zone)
    if local is None:
        return as_stored(moment)
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


WEEKDAY_WITHIN = timedelta(days=6)
"""A moment this close to now is named by its weekday (`Wed 14:02`), which cannot be mistaken."""


def deadline_time(moment: datetime, now: datetime | None, zone: tzinfo | None) -> str:
    """`Wed 14:02` for a moment within a few days of `now`, else `2024-05-02 14:02`: short
    enough for the header's clock column at 80 columns, where a full date was cut."""
    local = in_zone(moment, zone)
    if local is None or now is None or abs(moment - now) >= WEEKDAY_WITHIN:
        return day_and_time(moment, zone)
    return f"{local:%a %H:%M}"


def day_and_time(moment: datetime, zone: tzinfo | None, *, seconds: bool = False) -> str:
    """`2024-05-02 14:02` in the display zone, for lists that span days."""
    local = in_zone(moment, zone)
    if local is None:
        return as_stored(moment)
    # isoformat, not %Y: strftime writes year 2 as "2" on some platforms and "0002" on others.
    return local.replace(tzinfo=None).isoformat(" ", "seconds" if seconds else "minutes")
