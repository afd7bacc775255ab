"""Formats durations and clock times for the panes (pure; no textual)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


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
    local = moment.astimezone(zone)
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


def day_and_time(moment: datetime, zone: tzinfo | None, *, seconds: bool = False) -> str:
    """`2024-05-02 14:02` in the display zone, for lists that span days."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S}" if seconds else f"{local:%Y-%m-%d %H:%M}"
