"""The replay bar's words, fitted to the terminal's width (pure; no textual).

At 80 columns the full line (`event 1,234 of 5,678 · 2024-05-02 14:20:05 · +1:20:05 since
declared · paused · alice: severity changed`) was cut at the right, so whether the replay was
playing or paused, and what the event was, fell off. It now gives up words in order of what a
reader can spare: the "since declared" (the + says it), the date (the elapsed time says which
day), "of" (1,234/5,678), and last the event's description, which is shortened, then dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from warroom.tui.time_format import clock_time, day_and_time, duration

BADGE = " REPLAY "
SEPARATOR = " · "
MIN_DESCRIPTION = 8
"""Columns below which a shortened event description says too little to keep."""


@dataclass(frozen=True)
class ReplayPosition:
    """What the bar says: which event, when, how far in, whether playing, and what happened."""

    seq: int
    last: int
    at: datetime
    declared: datetime
    speed: int | None
    """Times real time while playing; None while paused."""
    description: str
    """Who did what, already cleaned (`alice: severity changed`)."""


def replay_bar(position: ReplayPosition, zone: tzinfo | None, width: int) -> Text:
    """The bar for `position` in at most `width` columns (when even the shortest form is wider,
    it is cut at the right like any line)."""
    p = position
    playing = f"playing {p.speed}x" if p.speed is not None else "paused"
    elapsed = f"+{duration(p.at - p.declared)}"
    forms = (
        (f"event {p.seq:,} of {p.last:,}", day_and_time(p.at, zone, seconds=True),
         f"{elapsed} since declared"),
        (f"event {p.seq:,} of {p.last:,}", day_and_time(p.at, zone, seconds=True), elapsed),
        (f"event {p.seq:,} of {p.last:,}", clock_time(p.at, zone), elapsed),
        (f"event {p.seq:,}/{p.last:,}", clock_time(p.at, zone), elapsed),
    )  # fmt: skip
    for where, when, since in forms:
        head = f" {where}{SEPARATOR}{when}{SEPARATOR}{since}{SEPARATOR}{playing}"
        room = width - len(BADGE) - len(head) - len(SEPARATOR)
        # Columns, not characters: a name in CJK or with emoji takes two per character.
        if room >= cell_len(p.description):
            return _bar(head, p.description)
    if room >= MIN_DESCRIPTION:
        return _bar(head, set_cell_size(p.description, room - 1).rstrip() + "…")
    return _bar(head, None)


def _bar(head: str, description: str | None) -> Text:
    bar = Text(BADGE, style="bold reverse")
    bar.append(head)
    if description is not None:
        bar.append(SEPARATOR + description, style="dim")
    return bar
